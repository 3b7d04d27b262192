"""The supervisor's offer log: the filtered, sorted calls, page by page or as one stream for the CSV export.

The log is ordered by one sortable column plus the call id (so the order is total and stable between pages) and
paged with OFFSET/LIMIT. The default order, newest first, walks ``ix_calls_started_at`` backwards and stops after
one page; filters on agent, reason, disposition and offer use their own indexes (``ix_calls_agent_started``,
``ix_calls_cancel_reason``, ``ix_calls_disposition``, ``ix_call_offers_offer_presented``). No page counts all
matching calls: one extra row tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select
from sqlmodel import Session

from retention_desk.storage.tables import (
    Account,
    Call,
    CallOffer,
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
