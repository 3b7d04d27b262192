"""The supervisor console's SQL: the filtered offer log, its CSV stream, one call's records, spending, offer audit.

The log is ordered by one sortable column plus the call id (so the order is total and stable between pages) and
paged with OFFSET/LIMIT. The default order, newest first, walks ``ix_calls_started_at`` backwards and stops after
one page; filters on agent, reason, disposition and offer use their own indexes (``ix_calls_agent_started``,
``ix_calls_cancel_reason``, ``ix_calls_disposition``, ``ix_call_offers_offer_presented``). No page counts all
matching calls: one extra row tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, select
from sqlmodel import Session

from retention_desk.storage.tables import (
    Account,
    ApprovalRequest,
    AuditEvent,
    Call,
    CallOffer,
    CancelReason,
    Offer,
    OfferBudgetMonth,
    User,
)

# What the log may be sorted by: a column each, never text from the request.
SORT_COLUMNS: dict[str, Any] = {
    "started": Call.started_at,
    "risk": Call.risk_score,
    "reason": Call.cancel_reason,
    "disposition": Call.disposition,
    "agent": User.display_name,
    "offer": Call.offer_code,
}


@dataclass(frozen=True)
class CallQuery:
    """Filters and order of the log, already checked by the service (``until`` is exclusive)."""

    since: datetime | None = None
    until: datetime | None = None
    agent_id: int | None = None
    team: str | None = None
    offer_code: str | None = None
    cancel_reason: str | None = None
    disposition: str | None = None
    risk_band: str | None = None
    sort: str = "started"
    descending: bool = True


def _log_select(query: CallQuery) -> Select:
    stmt = (
        select(
            Call.id,
            Call.started_at,
            Call.ended_at,
            Account.account_no,
            Account.first_name,
            Account.last_name,
            User.username,
            User.display_name,
            User.team,
            Call.cancel_reason,
            Call.risk_score,
            Call.risk_band,
            Call.risk_model_version,
            Call.offer_model_version,
            Call.decision_mode,
            Call.disposition,
            Call.offer_code,
            Call.notes,
            Call.source,
        )
        .join(Account, Account.id == Call.account_id)
        .outerjoin(User, User.id == Call.agent_id)
    )
    if query.since is not None:
        stmt = stmt.where(Call.started_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(Call.started_at < query.until)
    if query.agent_id is not None:
        stmt = stmt.where(Call.agent_id == query.agent_id)
    if query.team:
        stmt = stmt.where(User.team == query.team)
    if query.offer_code:
        # Calls where the offer was presented (a semi-join on the (offer_code, presented_at) index).
        stmt = stmt.where(exists().where(CallOffer.call_id == Call.id, CallOffer.offer_code == query.offer_code))
    if query.cancel_reason:
        stmt = stmt.where(Call.cancel_reason == query.cancel_reason)
    if query.disposition:
        stmt = stmt.where(Call.disposition == query.disposition)
    if query.risk_band:
        stmt = stmt.where(Call.risk_band == query.risk_band)
    column = SORT_COLUMNS.get(query.sort, Call.started_at)
    if query.descending:
        return stmt.order_by(column.desc().nulls_last(), Call.id.desc())
    return stmt.order_by(column.asc().nulls_last(), Call.id.asc())


def call_log_rows(session: Session, query: CallQuery, *, offset: int, limit: int) -> list[Any]:
    """One page of the log (``limit`` rows from ``offset``), each a row with the columns of ``_log_select``."""
    return list(session.execute(_log_select(query).offset(offset).limit(limit)).all())


def call_log_stream(session: Session, query: CallQuery, *, chunk: int = 1000) -> Iterator[list[Any]]:
    """Every matching call in chunks of ``chunk`` rows, read through a server-side cursor (never all at once)."""
    result = session.execute(_log_select(query).execution_options(yield_per=chunk))
    try:
        for partition in result.partitions():
            yield list(partition)
    finally:
        result.close()


def presented_offers(session: Session, call_ids: Sequence[int]) -> list[CallOffer]:
    """The offers presented on these calls, in call and rank order."""
    if not call_ids:
        return []
    stmt = (
        select(CallOffer)
        .where(CallOffer.call_id.in_(list(call_ids)))
        .order_by(CallOffer.call_id, CallOffer.presented_at, CallOffer.id)
    )
    return list(session.execute(stmt).scalars())


def call_with_people(session: Session, call_id: int) -> tuple[Call, Account, User | None] | None:
    row = session.execute(
        select(Call, Account, User)
        .join(Account, Account.id == Call.account_id)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.id == call_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def approval_requests_of_call(session: Session, call_id: int) -> list[tuple[ApprovalRequest, str, str | None]]:
    """The call's approval requests, each with who asked and who decided."""
    asker, decider = User.__table__.alias("asker"), User.__table__.alias("decider")
    stmt = (
        select(ApprovalRequest, asker.c.display_name, decider.c.display_name)
        .join(asker, asker.c.id == ApprovalRequest.requested_by)
        .outerjoin(decider, decider.c.id == ApprovalRequest.decided_by)
        .where(ApprovalRequest.call_id == call_id)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    )
    return [(r, a, d) for r, a, d in session.execute(stmt).all()]


def pending_approvals(session: Session, *, limit: int) -> list[tuple[ApprovalRequest, Account, User, Offer | None]]:
    """The pending requests, oldest first (``ix_approval_requests_status_requested``), with account, agent, offer."""
    stmt = (
        select(ApprovalRequest, Account, User, Offer)
        .join(Account, Account.id == ApprovalRequest.account_id)
        .join(User, User.id == ApprovalRequest.requested_by)
        .outerjoin(Offer, Offer.code == ApprovalRequest.offer_code)
        .where(ApprovalRequest.status == "pending")
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        .limit(limit)
    )
    return [(r, a, u, o) for r, a, u, o in session.execute(stmt).all()]


def agents_and_teams(session: Session) -> tuple[list[tuple[int, str]], list[str]]:
    """Desk users who may take calls (id, name) and the teams, for the log's filter lists."""
    users = session.execute(select(User.id, User.display_name, User.team).order_by(User.display_name)).all()
    teams = sorted({team for _, _, team in users if team})
    return [(uid, name) for uid, name, _ in users], teams


def offer_codes(session: Session) -> list[tuple[str, str]]:
    return [(c, n) for c, n in session.execute(select(Offer.code, Offer.name).order_by(Offer.code)).all()]


def cancel_reasons(session: Session) -> list[tuple[str, str]]:
    stmt = select(CancelReason.code, CancelReason.label).order_by(CancelReason.sort_order, CancelReason.code)
    return [(c, label) for c, label in session.execute(stmt).all()]


def offers_table(session: Session) -> list[Offer]:
    """Every offer, active first, then by code."""
    return list(session.execute(select(Offer).order_by(Offer.active.desc(), Offer.code)).scalars())


def offer_row(session: Session, code: str) -> Offer | None:
    return session.execute(select(Offer).where(Offer.code == code)).scalar_one_or_none()


def spent_in_month(session: Session, month: date) -> dict[str, tuple[Decimal, int]]:
    """What each offer's acceptances committed in ``month`` (its first day), and how many there were."""
    rows = session.execute(
        select(OfferBudgetMonth.offer_code, OfferBudgetMonth.spent, OfferBudgetMonth.accepted).where(
            OfferBudgetMonth.month == month
        )
    )
    return {code: (Decimal(spent), int(accepted)) for code, spent, accepted in rows}


def offer_audit_events(session: Session, code: str, *, limit: int = 50) -> list[AuditEvent]:
    """The audit rows of one offer, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == "offer", AuditEvent.entity_id == code)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())
