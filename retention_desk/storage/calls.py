"""Desk calls: the call, its presented offers and answers, and the account's earlier calls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from retention_desk.storage.tables import Account, Call, CallOffer, OfferHistory, User


def call_with_people(session: Session, call_id: int) -> tuple[Call, Account, User | None] | None:
    row = session.execute(
        select(Call, Account, User)
        .join(Account, Account.id == Call.account_id)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.id == call_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def calls_with_agents(session: Session, *, account_id: int, limit: int = 50) -> list[tuple[Call, str | None]]:
    """The account's calls, newest first, each with the agent's display name."""
    stmt = (
        select(Call, User.display_name)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.account_id == account_id)
        .order_by(Call.started_at.desc())
        .limit(limit)
    )
    return [(call, name) for call, name in session.execute(stmt).all()]


def call_by_key(session: Session, key: str) -> Call | None:
    """The call opened with this idempotency key, if any."""
    return session.execute(select(Call).where(Call.idempotency_key == key)).scalar_one_or_none()


def presented_on_call(session: Session, call_id: int) -> list[CallOffer]:
    """The offers presented on the call, in the order they were made."""
    stmt = select(CallOffer).where(CallOffer.call_id == call_id).order_by(CallOffer.presented_at, CallOffer.id)
    return list(session.execute(stmt).scalars())


def presented_offer(session: Session, call_id: int, offer_code: str) -> CallOffer | None:
    return session.execute(
        select(CallOffer).where(CallOffer.call_id == call_id, CallOffer.offer_code == offer_code)
    ).scalar_one_or_none()


def claim_answer(session: Session, call_offer_id: int, answer: str, at: datetime) -> bool:
    """Record the answer to a presented offer unless one is recorded already: one conditional UPDATE, so two
    requests answering at once cannot both succeed."""
    claimed = session.execute(
        update(CallOffer)
        .where(CallOffer.id == call_offer_id, CallOffer.response.is_(None))
        .values(response=answer, responded_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def offer_history_of_call(session: Session, call_id: int, offer_code: str) -> OfferHistory | None:
    """The account's offer-history row this call wrote for the offer."""
    return session.execute(
        select(OfferHistory).where(OfferHistory.call_id == call_id, OfferHistory.offer_code == offer_code)
    ).scalar_one_or_none()


def open_call_of_agent(session: Session, account_id: int, agent_id: int) -> int | None:
    """The agent's newest call on this account that is still open."""
    return session.execute(
        select(Call.id)
        .where(Call.account_id == account_id, Call.agent_id == agent_id, Call.disposition.is_(None))
        .order_by(Call.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def claim_acceptance(session: Session, call_id: int, offer_code: str) -> bool:
    """Name the call's accepted offer unless it already has one or is closed: one conditional UPDATE, so of two
    offers accepted at the same moment on one call only one is stored (PostgreSQL re-checks the condition after the
    first transaction commits; SQLite runs one writer at a time)."""
    claimed = session.execute(
        update(Call)
        .where(Call.id == call_id, Call.offer_code.is_(None), Call.disposition.is_(None))
        .values(offer_code=offer_code)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def claim_disposition(
    session: Session, call_id: int, *, disposition: str, notes: str, at: datetime, needs_offer: bool
) -> bool:
    """Close the call unless it is closed already (and, for a save with an offer, unless it has no accepted offer):
    one conditional UPDATE, so of a "saved" and a cancellation sent together only one closes the call."""
    statement = update(Call).where(Call.id == call_id, Call.disposition.is_(None))
    if needs_offer:
        statement = statement.where(Call.offer_code.is_not(None))
    closed = session.execute(
        statement.values(disposition=disposition, disposition_at=at, ended_at=at, notes=notes).execution_options(
            synchronize_session=False
        )
    ).rowcount
    return bool(closed)
