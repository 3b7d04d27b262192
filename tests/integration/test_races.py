"""Concurrent requests on one call, on PostgreSQL: each thread its own connection, all released at once.

SQLite runs one writer at a time, so these races exist only where many connections write: each test here failed
before the call became a state machine enforced by the database (conditional updates on the call row).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import Settings, test_settings
from retention_desk.services.calls import steps
from retention_desk.services.seeding import seed_demo_world
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, Call, CallOffer, OfferBudgetMonth, OfferHistory
from tests.call_world import EXPLOIT, owned_account, presentable
from tests.databases import temporary_database

TRIES = 5
RACE_ACCOUNTS = 600


@pytest.fixture(scope="module")
def pg_settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A small seeded world of the races' own, so what they leave behind reaches no other test."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writer at a time: these races need PostgreSQL")
    folder = tmp_path_factory.mktemp("races")
    with temporary_database(backend, folder) as url:
        migrate.upgrade(url)
        seed_demo_world(url=url, accounts=RACE_ACCOUNTS, seed=5, as_of=None, demo_users=True)
        yield test_settings(url, folder)


def race(settings: Settings, *actions: Callable[..., Any]) -> list[Any]:
    """Run each action in its own thread and connection, released together; each commits on success. Returns
    each action's result, or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[..., Any]) -> None:
        with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
            try:
                barrier.wait(timeout=30)
                results[i] = action(session=session)
                session.commit()
            except Exception as exc:  # noqa: BLE001  (what the request would have answered)
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def a_call_with_two_offers_presented(settings: Settings, n: int) -> tuple[int, int, list[str]]:
    """A fresh call by the demo agent with its first two presentable offers presented: (call, agent, codes)."""
    account_id = owned_account(settings, lambda r: len(presentable(r)) >= 2)
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        agent = get_user_by_username(session=session, username="agent")
        state = steps.start_call(
            session=session,
            settings=settings,
            account_id=account_id,
            agent_id=agent.id,
            idempotency_key=f"race-{account_id}-{n}",
            reason="price",
            draws=EXPLOIT,
        )
        codes = presentable(state.call.ranked)[:2]
        step = {"session": session, "settings": settings, "call_id": state.call.id, "agent_id": agent.id}
        for code in codes:
            steps.present_offer(**step, offer_code=code)
        session.commit()
        return state.call.id, agent.id, codes


def test_two_offers_accepted_at_once_on_one_call_store_one_acceptance(pg_settings: Settings) -> None:
    for n in range(TRIES):
        call_id, agent_id, (first, second) = a_call_with_two_offers_presented(pg_settings, n)
        step = {"settings": pg_settings, "call_id": call_id, "agent_id": agent_id}
        results = race(
            pg_settings,
            partial(steps.answer_offer, **step, offer_code=first, accepted=True),
            partial(steps.answer_offer, **step, offer_code=second, accepted=True),
        )
        assert sum(isinstance(r, steps.CallError) for r in results) == 1, results
        with Session(get_engine(pg_settings.database_url)) as session:
            call = session.get(Call, call_id)
            accepted = session.execute(
                select(CallOffer.offer_code).where(CallOffer.call_id == call_id, CallOffer.response == "accepted")
            ).scalars()
            history = session.execute(
                select(func.count()).where(OfferHistory.call_id == call_id, OfferHistory.response == "accepted")
            ).scalar_one()
            assert list(accepted) == [call.offer_code] and history == 1


def test_a_save_and_a_cancellation_sent_together_close_the_call_once(pg_settings: Settings) -> None:
    for n in range(TRIES):
        call_id, agent_id, (first, _second) = a_call_with_two_offers_presented(pg_settings, 100 + n)
        step = {"settings": pg_settings, "call_id": call_id, "agent_id": agent_id}
        with Session(get_engine(pg_settings.database_url), expire_on_commit=False) as session:
            steps.answer_offer(session=session, **step, offer_code=first, accepted=True)
            session.commit()
            spent_before = _spent(session, first)
        results = race(
            pg_settings,
            partial(steps.finish_call, **step, disposition="saved_with_offer"),
            partial(steps.process_cancellation, **step),
        )
        assert sum(isinstance(r, steps.CallError) for r in results) == 1, results
        with Session(get_engine(pg_settings.database_url)) as session:
            call = session.get(Call, call_id)
            account = session.get(Account, call.account_id)
            if call.disposition == "cancelled":
                assert account.status == "cancelled" and call.offer_code is None
                assert _spent(session, first) < spent_before  # the acceptance was withdrawn with its budget
            else:
                assert call.disposition == "saved_with_offer" and call.offer_code == first
                assert account.status == "active" and _spent(session, first) == spent_before


def _spent(session: Session, code: str) -> float:
    rows = session.execute(select(OfferBudgetMonth.spent).where(OfferBudgetMonth.offer_code == code)).scalars()
    return float(sum(rows))


def test_forty_guesses_at_once_check_no_more_passwords_than_the_allowance(pg_settings: Settings) -> None:
    from retention_desk.services.staff.sign_in import sign_in
    from retention_desk.storage.tables import AuditEvent

    name = "race-guessed"
    guesses = [partial(sign_in, settings=pg_settings, username=name, password=f"guess {n}", ip=None) for n in range(40)]
    results = race(pg_settings, *guesses)
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(get_engine(pg_settings.database_url)) as session:
        checked = session.execute(
            select(func.count()).where(AuditEvent.action == "login_failed", AuditEvent.entity_id == name)
        ).scalar_one()
    assert checked == pg_settings.login_attempts
    assert sum(r.throttled for r in results) == 40 - pg_settings.login_attempts
