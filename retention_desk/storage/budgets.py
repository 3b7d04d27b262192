"""Monthly offer budgets: one counter row per offer and month, changed only by single conditional statements.

An acceptance commits the offer's total cost (``total_cost``) to the budget of the month it was accepted in (UTC
calendar months). ``reserve_budget`` adds it with one ``UPDATE ... WHERE spent + cost <= cap``: on PostgreSQL a
second transaction updating the same row waits for the first to commit and then re-checks the condition against
the new row, so concurrent acceptances can never overspend; SQLite runs one writer at a time. The counter row is
first created with ``INSERT ... ON CONFLICT DO NOTHING``, so two first acceptances of a month cannot collide either.

The updates run in the caller's transaction: the reservation commits (or rolls back) with the acceptance that
caused it, and the row stays locked until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.storage.tables import (
    OfferBudgetMonth,
)

_ZERO = Decimal("0.00")


class BudgetError(ValueError):
    """A budget counter cannot change as asked; the message is one sentence."""


def budget_month(moment: date | datetime) -> date:
    """The budget month a moment falls in: the first day of its month (pass UTC datetimes)."""
    return date(moment.year, moment.month, 1)


def budget_left(session: Session, offers: Sequence[OfferSpec], month: date) -> dict[str, Decimal | None]:
    """What each offer may still commit this month; None for an offer without a monthly budget. Never negative."""
    month = budget_month(month)
    capped = [o for o in offers if o.monthly_budget is not None]
    spent: dict[str, Decimal] = {}
    if capped:
        rows = session.execute(
            select(OfferBudgetMonth.offer_code, OfferBudgetMonth.spent).where(
                OfferBudgetMonth.month == month, OfferBudgetMonth.offer_code.in_([o.code for o in capped])
            )
        )
        spent = {code: Decimal(value) for code, value in rows}
    out: dict[str, Decimal | None] = {}
    for offer in offers:
        if offer.monthly_budget is None:
            out[offer.code] = None
        else:
            out[offer.code] = max(_ZERO, offer.monthly_budget - spent.get(offer.code, _ZERO)).quantize(_ZERO)
    return out


def reserve_budget(session: Session, offer: OfferSpec, month: date, *, cost: Decimal | None = None) -> bool:
    """Count one acceptance of ``offer`` in ``month``; False (and nothing changed) when its budget cannot cover it.

    ``cost`` defaults to the offer's total cost. Offers without a monthly budget are only counted: always True.
    """
    month = budget_month(month)
    amount = total_cost(offer) if cost is None else cost
    _ensure_row(session, offer.code, month)
    table = OfferBudgetMonth.__table__
    new_spent = func.round(table.c.spent + amount, 2, type_=table.c.spent.type)
    statement = (
        update(table)
        .where(table.c.offer_code == offer.code, table.c.month == month)
        .values(spent=new_spent, accepted=table.c.accepted + 1)
    )
    if offer.monthly_budget is not None:
        statement = statement.where(new_spent <= offer.monthly_budget)
    return session.execute(statement).rowcount == 1


def release_budget(session: Session, offer: OfferSpec, month: date, *, cost: Decimal | None = None) -> None:
    """Undo one acceptance counted by ``reserve_budget`` (pass the same ``cost`` if one was given there)."""
    month = budget_month(month)
    amount = total_cost(offer) if cost is None else cost
    table = OfferBudgetMonth.__table__
    left = func.round(table.c.spent - amount, 2, type_=table.c.spent.type)
    result = session.execute(
        update(table)
        .where(table.c.offer_code == offer.code, table.c.month == month, table.c.accepted > 0)
        .values(spent=case((left > 0, left), else_=0), accepted=table.c.accepted - 1)
    )
    if result.rowcount != 1:
        raise BudgetError(f"Offer {offer.code} has no acceptance counted in {month:%Y-%m} to undo.")


def _ensure_row(session: Session, offer_code: str, month: date) -> None:
    table = OfferBudgetMonth.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(table)
        .values(offer_code=offer_code, month=month, spent=_ZERO, accepted=0)
        .on_conflict_do_nothing(index_elements=["offer_code", "month"])
    )


def spent_in_month(session: Session, month: date) -> dict[str, tuple[Decimal, int]]:
    """What each offer's acceptances committed in ``month`` (its first day), and how many there were."""
    rows = session.execute(
        select(OfferBudgetMonth.offer_code, OfferBudgetMonth.spent, OfferBudgetMonth.accepted).where(
            OfferBudgetMonth.month == month
        )
    )
    return {code: (Decimal(spent), int(accepted)) for code, spent, accepted in rows}
