"""Monthly offer budgets: counted per acceptance, never overspent, not even by acceptances racing each other."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.storage.budgets import BudgetError, budget_left, budget_month, release_budget, reserve_budget
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import OfferBudgetMonth

NOVEMBER = date(2026, 11, 1)
CREDIT = OfferSpec(
    code="CREDIT",
    name="Credit",
    kind="bill_credit",
    cost_model="one_off",
    cost_amount=Decimal("333.33"),
    params={"amount": 333.33},
    monthly_budget=Decimal("1000.00"),
)
OPEN = replace(CREDIT, code="OPEN", monthly_budget=None)


def counter(session: Session, code: str, month: date = NOVEMBER) -> OfferBudgetMonth | None:
    return session.execute(
        select(OfferBudgetMonth).where(OfferBudgetMonth.offer_code == code, OfferBudgetMonth.month == month)
    ).scalar_one_or_none()


def test_the_budget_month_is_the_first_day_of_the_utc_month() -> None:
    assert budget_month(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == NOVEMBER
    assert budget_month(date(2026, 11, 17)) == NOVEMBER


def test_an_untouched_budget_is_whole_and_an_uncapped_offer_has_none(session: Session) -> None:
    assert budget_left(session, [CREDIT, OPEN], NOVEMBER) == {"CREDIT": Decimal("1000.00"), "OPEN": None}


def test_acceptances_are_counted_until_the_next_would_overspend(session: Session) -> None:
    results = [reserve_budget(session, CREDIT, date(2026, 11, 15)) for _ in range(4)]
    session.commit()
    assert results == [True, True, True, False]
    row = counter(session, "CREDIT")
    assert (row.spent, row.accepted) == (Decimal("999.99"), 3)
    assert budget_left(session, [CREDIT], NOVEMBER) == {"CREDIT": Decimal("0.01")}


def test_a_refused_reservation_changes_nothing(session: Session) -> None:
    small = replace(CREDIT, monthly_budget=Decimal("100"))
    assert not reserve_budget(session, small, NOVEMBER)
    session.commit()
    row = counter(session, "CREDIT")
    assert (row.spent, row.accepted) == (Decimal("0.00"), 0)


def test_a_budget_may_be_filled_exactly(session: Session) -> None:
    exact = replace(CREDIT, monthly_budget=Decimal("999.99"))
    assert [reserve_budget(session, exact, NOVEMBER) for _ in range(4)] == [True, True, True, False]


def test_an_offer_without_a_budget_is_only_counted(session: Session) -> None:
    assert all(reserve_budget(session, OPEN, NOVEMBER) for _ in range(5))
    session.commit()
    row = counter(session, "OPEN")
    assert (row.spent, row.accepted) == (Decimal("1666.65"), 5)


def test_each_month_has_its_own_budget(session: Session) -> None:
    for _ in range(3):
        reserve_budget(session, CREDIT, NOVEMBER)
    assert reserve_budget(session, CREDIT, date(2026, 12, 1))
    session.commit()
    assert budget_left(session, [CREDIT], date(2026, 12, 9)) == {"CREDIT": Decimal("666.67")}


def test_a_monthly_offer_reserves_its_whole_commitment(session: Session) -> None:
    discount = replace(CREDIT, code="DISC", cost_model="monthly", cost_amount=Decimal("70"), duration_months=6)
    assert reserve_budget(session, discount, NOVEMBER)
    assert budget_left(session, [discount], NOVEMBER) == {"DISC": Decimal("1000.00") - total_cost(discount)}


def test_a_lowered_cap_leaves_nothing_rather_than_a_negative_amount(session: Session) -> None:
    reserve_budget(session, CREDIT, NOVEMBER)
    session.commit()
    assert budget_left(session, [replace(CREDIT, monthly_budget=Decimal("100"))], NOVEMBER) == {"CREDIT": Decimal("0")}


def test_releasing_an_acceptance_gives_its_cost_back(session: Session) -> None:
    for _ in range(3):
        reserve_budget(session, CREDIT, NOVEMBER)
    release_budget(session, CREDIT, NOVEMBER)
    session.commit()
    row = counter(session, "CREDIT")
    assert (row.spent, row.accepted) == (Decimal("666.66"), 2)
    assert reserve_budget(session, CREDIT, NOVEMBER)


def test_a_reservation_with_a_given_cost_is_released_with_the_same_cost(session: Session) -> None:
    assert reserve_budget(session, CREDIT, NOVEMBER, cost=Decimal("12.50"))
    release_budget(session, CREDIT, NOVEMBER, cost=Decimal("12.50"))
    row = counter(session, "CREDIT")
    assert (row.spent, row.accepted) == (Decimal("0.00"), 0)


def test_releasing_what_was_never_reserved_is_an_error(session: Session) -> None:
    with pytest.raises(BudgetError, match="Offer CREDIT has no acceptance counted in 2026-11 to undo"):
        release_budget(session, CREDIT, NOVEMBER)


def test_a_rolled_back_acceptance_leaves_the_budget_untouched(session: Session) -> None:
    assert reserve_budget(session, CREDIT, NOVEMBER)
    session.rollback()
    assert budget_left(session, [CREDIT], NOVEMBER) == {"CREDIT": Decimal("1000.00")}


@pytest.mark.parametrize("threads", [8])
def test_concurrent_acceptances_never_overspend(db_url: str, threads: int) -> None:
    """N threads, each with its own connection, race M acceptances each against a cap that fits fewer."""
    per_thread, cost = 15, Decimal("33.33")
    fits = 37
    offer = replace(CREDIT, cost_amount=cost, params={"amount": 33.33}, monthly_budget=cost * fits + Decimal("10"))
    engine = get_engine(db_url)
    start = threading.Barrier(threads)
    granted: list[int] = [0] * threads
    errors: list[BaseException] = []

    def accept_many(index: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                with Session(engine) as session:
                    if reserve_budget(session, offer, NOVEMBER):
                        granted[index] += 1
                    session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    workers = [threading.Thread(target=accept_many, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    with Session(engine) as session:
        row = counter(session, "CREDIT")
    assert sum(granted) == fits == row.accepted
    assert row.spent == cost * row.accepted <= offer.monthly_budget


_months = iter(date(2000 + i // 12, i % 12 + 1, 1) for i in range(10_000))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cents=st.integers(min_value=1, max_value=50_000),
    fits=st.integers(min_value=0, max_value=12),
    threads=st.integers(min_value=2, max_value=6),
    per_thread=st.integers(min_value=1, max_value=6),
)
def test_racing_acceptances_never_exceed_any_budget(
    db_url: str, cents: int, fits: int, threads: int, per_thread: int
) -> None:
    """Property: whatever the cost, cap and contention, the budget holds exactly what fits and no more."""
    cost = Decimal(cents) / 100
    offer = replace(
        CREDIT, cost_amount=cost, params={"amount": float(cost)}, monthly_budget=cost * fits + Decimal(cents // 2) / 100
    )
    month = next(_months)  # a fresh month per example: no state carried between examples
    engine = get_engine(db_url)
    start = threading.Barrier(threads)
    granted = [0] * threads
    errors: list[BaseException] = []

    def accept(index: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                with Session(engine) as session:
                    granted[index] += reserve_budget(session, offer, month)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    workers = [threading.Thread(target=accept, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    with Session(engine) as session:
        left = budget_left(session, [offer], month)["CREDIT"]
    assert sum(granted) == min(fits, threads * per_thread)
    assert offer.monthly_budget - left == cost * sum(granted) <= offer.monthly_budget
