"""One subscriber's rows across the tables, for the data-subject export, and the updates that erase their personal
data while keeping every row the dashboards, the call counts and the nightly training read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from retention_desk.storage.audit import about_account
from retention_desk.storage.tables import (
    Account,
    AccountService,
    ApprovalRequest,
    AuditEvent,
    Bill,
    Call,
    CallOffer,
    OfferHistory,
    Ticket,
    User,
)

# The account columns that identify or contact the person, and what erasure leaves in each. Region, plan, contract,
# charges and status stay: the dashboards and the churn model read them, and none of them names anyone.
ERASED_ACCOUNT_VALUES: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_search": "",
    "surname_search": "",
    "email": None,
    "email_normalised": None,
    "phone": None,
    "phone_normalised": None,
    "address": None,
    "postcode": None,
    "city": None,
    "birth_year": None,
}
PERSONAL_ACCOUNT_COLUMNS = (*ERASED_ACCOUNT_VALUES, "extra")


def account_by_number(session: Session, account_no: str) -> Account | None:
    """The account with this billing-system number (the unique key the export and erase commands are given)."""
    return session.execute(select(Account).where(Account.account_no == account_no)).scalar_one_or_none()


def services_of(session: Session, account_id: int) -> list[AccountService]:
    stmt = select(AccountService).where(AccountService.account_id == account_id).order_by(AccountService.id)
    return list(session.execute(stmt).scalars())


def bills_of(session: Session, account_id: int) -> list[Bill]:
    stmt = select(Bill).where(Bill.account_id == account_id).order_by(Bill.period_start, Bill.id)
    return list(session.execute(stmt).scalars())


def tickets_of(session: Session, account_id: int) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.account_id == account_id).order_by(Ticket.opened_at, Ticket.id)
    return list(session.execute(stmt).scalars())


def offer_history_of(session: Session, account_id: int) -> list[OfferHistory]:
    stmt = select(OfferHistory).where(OfferHistory.account_id == account_id).order_by(OfferHistory.offered_at)
    return list(session.execute(stmt).scalars())


def calls_of(session: Session, account_id: int) -> list[tuple[Call, str | None]]:
    """Every call on the account, oldest first, with its agent's username."""
    stmt = (
        select(Call, User.username)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.account_id == account_id)
        .order_by(Call.started_at, Call.id)
    )
    return [(call, name) for call, name in session.execute(stmt).all()]


def offers_presented_on(session: Session, call_ids: Sequence[int]) -> list[CallOffer]:
    if not call_ids:
        return []
    stmt = select(CallOffer).where(CallOffer.call_id.in_(list(call_ids))).order_by(CallOffer.call_id, CallOffer.id)
    return list(session.execute(stmt).scalars())


def approval_requests_of(session: Session, account_id: int) -> list[ApprovalRequest]:
    stmt = select(ApprovalRequest).where(ApprovalRequest.account_id == account_id).order_by(ApprovalRequest.id)
    return list(session.execute(stmt).scalars())


def audit_events_about(session: Session, account_id: int) -> list[AuditEvent]:
    """The audit rows about the account and its approval requests (views, exports, erasure, decisions), oldest
    first."""
    stmt = select(AuditEvent).where(about_account(account_id)).order_by(AuditEvent.at, AuditEvent.id)
    return list(session.execute(stmt).scalars())


def erase_account(session: Session, account_id: int, *, extra: dict[str, Any], at: datetime | None) -> None:
    """Blank the account's personal columns, store the scrubbed ``extra``; ``at`` (when not None) becomes
    ``erased_at``."""
    values: dict[str, Any] = {**ERASED_ACCOUNT_VALUES, "extra": extra}
    if at is not None:
        values.update(erased_at=at, updated_at=at)
    session.execute(
        update(Account).where(Account.id == account_id).values(**values).execution_options(synchronize_session=False)
    )
    session.expire_all()


def erase_free_text(session: Session, account_id: int) -> None:
    """Empty the free text written about the subscriber: call notes, ticket summaries and approval notes."""
    for table, column in ((Call, Call.notes), (Ticket, Ticket.summary), (ApprovalRequest, ApprovalRequest.note)):
        session.execute(
            update(table)
            .where(table.account_id == account_id, column != "")
            .values({column.key: ""})
            .execution_options(synchronize_session=False)
        )
    session.expire_all()


def replace_call_reasons(session: Session, reasons_by_call: dict[int, list[Any]]) -> None:
    """Store new ``reasons`` lists on these calls (the logged reasons without a personal attribute's value)."""
    for call_id, reasons in reasons_by_call.items():
        session.execute(
            update(Call).where(Call.id == call_id).values(reasons=reasons).execution_options(synchronize_session=False)
        )
    session.expire_all()


def replace_audit_changes(session: Session, changes: dict[int, tuple[Any, Any]]) -> None:
    """Store new before/after documents on these audit rows."""
    for event_id, (before, after) in changes.items():
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == event_id)
            .values(before=before, after=after)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()
