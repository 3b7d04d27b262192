"""Accounts as the desk finds and shows them: by phone, number, e-mail or name, with their services, bills,
tickets and offers; and a spread-out sample of them for "what does a typical account look like" questions.

Every function in storage/ takes the session as its first argument and returns table rows or plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from retention_desk.storage.tables import (
    Account,
    AccountService,
    Bill,
    OfferHistory,
    Ticket,
)

# Ids beyond this cannot be a primary key on either database; "0047 91234567" must not overflow a bind.
MAX_ID = 2**31 - 1


def accounts_by_keys(
    session: Session,
    *,
    account_no: str | None = None,
    account_id: int | None = None,
    phone_normalised: str | None = None,
    email_normalised: str | None = None,
    limit: int = 20,
) -> list[Account]:
    """Accounts matching any of the exact keys given (each one an indexed column)."""
    conditions = []
    if account_no:
        conditions.append(Account.account_no == account_no)
    if account_id is not None and 0 < account_id <= MAX_ID:
        conditions.append(Account.id == account_id)
    if phone_normalised:
        conditions.append(Account.phone_normalised == phone_normalised)
    if email_normalised:
        conditions.append(Account.email_normalised == email_normalised)
    if not conditions:
        return []
    stmt = select(Account).where(or_(*conditions)).order_by(Account.id).limit(limit)
    return list(session.execute(stmt).scalars())


def accounts_by_name_prefix(session: Session, *, prefix: str, limit: int = 20) -> list[Account]:
    """Accounts whose lower-cased full name or surname starts with ``prefix`` (already lower-cased).

    Two index-ordered range scans that each stop after ``limit`` rows, merged here: one OR query would
    have to sort every match first, and a common surname matches tens of thousands of subscribers.
    """
    if not prefix:
        return []
    found: dict[int, Account] = {}
    for column in (Account.surname_search, Account.name_search):
        # The columns use byte-order collation on PostgreSQL (see tables.SearchKey), so their index serves this range.
        stmt = select(Account).where(*_prefix_range(column, prefix)).order_by(column, Account.id).limit(limit)
        for row in session.execute(stmt).scalars():
            found.setdefault(row.id or 0, row)
    return sorted(found.values(), key=lambda a: (a.surname_search, a.name_search, a.id or 0))[:limit]


def _prefix_range(key: Any, prefix: str) -> list[Any]:
    """``prefix <= key < prefix-with-its-last-character-bumped``, which an index can serve, plus an exact LIKE.

    (SQLite's LIKE ignores case and so never uses an ordinary index on its own.)
    """
    conditions = [key >= prefix, key.startswith(prefix, autoescape=True)]
    after = ord(prefix[-1]) + 1
    if 0xD800 <= after <= 0xDFFF:  # surrogates are no characters (and no text PostgreSQL stores): step over them
        after = 0xE000
    if after <= 0x10FFFF:
        conditions.append(key < prefix[:-1] + chr(after))
    return conditions


def account_services(session: Session, *, account_id: int) -> list[AccountService]:
    stmt = (
        select(AccountService)
        .where(AccountService.account_id == account_id)
        .order_by(AccountService.kind, AccountService.name)
    )
    return list(session.execute(stmt).scalars())


def latest_bills(session: Session, *, account_id: int, limit: int = 13) -> list[Bill]:
    """The newest ``limit`` bills, oldest first."""
    stmt = select(Bill).where(Bill.account_id == account_id).order_by(Bill.period_start.desc()).limit(limit)
    return list(reversed(list(session.execute(stmt).scalars())))


def tickets_since(session: Session, *, account_id: int, since: datetime) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(Ticket.account_id == account_id, Ticket.opened_at >= since)
        .order_by(Ticket.opened_at.desc())
    )
    return list(session.execute(stmt).scalars())


def offer_history(session: Session, *, account_id: int, limit: int = 50) -> list[OfferHistory]:
    stmt = (
        select(OfferHistory)
        .where(OfferHistory.account_id == account_id)
        .order_by(OfferHistory.offered_at.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def count_accounts(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Account)).scalar_one())


def spread_account_ids(session: Session, *, limit: int) -> list[int]:
    """Up to ``limit`` account ids spread evenly over the id range (not just the oldest accounts)."""
    total = int(session.execute(select(func.count()).select_from(Account)).scalar_one())
    if total == 0 or limit <= 0:
        return []
    step = max(total // limit, 1)
    ids = session.execute(select(Account.id).order_by(Account.id)).scalars()
    return [i for n, i in enumerate(ids) if n % step == 0][:limit]


def active_synthetic_ids(session: Session, n_accounts: int) -> list[int]:
    """The seeded world's subscribers that are active now, by id (the world's ids run from 1 to its size)."""
    ids = session.execute(
        select(Account.id).where(Account.status == "active", Account.source == "synthetic", Account.id <= n_accounts)
    ).scalars()
    return sorted(ids)


def close_active_accounts(session: Session, account_ids: Sequence[int], when: datetime) -> None:
    """Mark these accounts cancelled as of ``when`` (those still active)."""
    if account_ids:
        session.execute(
            update(Account)
            .where(Account.id.in_(list(account_ids)), Account.status == "active")
            .values(status="cancelled", status_changed_at=when)
        )
