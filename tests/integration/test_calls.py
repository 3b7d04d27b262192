"""A whole cancellation call through the call service, on the seeded world: ranking from permitted offers only,
honest propensities, the offer limit, idempotent logging, budgets, approvals and the cancellation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import OfferPolicy, Settings
from retention_desk.domain.clock import utcnow
from retention_desk.offers.eligibility import check_offers, facts_from_snapshot
from retention_desk.services.calls.approvals import decide
from retention_desk.services.calls.deciding import decide_offers
from retention_desk.services.calls.state import CallState
from retention_desk.services.calls.steps import (
    CallError,
    answer_offer,
    choose_reason,
    finish_call,
    present_offer,
    process_cancellation,
    request_approval,
    start_call,
)
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.models import risk
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage import training_data
from retention_desk.storage.budgets import budget_left, budget_month
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, Call, CallOffer, OfferHistory
from retention_desk.storage.training_data import load_account_snapshot

EXPLOIT = (0.99, 0.0)  # draws that take the best action


@pytest.fixture()
def world(world_settings: Settings) -> Iterator[tuple[Session, Settings]]:
    """The shared seeded world in a transaction that is rolled back afterwards."""
    engine = get_engine(world_settings.database_url)
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
            yield session, world_settings
        outer.rollback()


def _active_accounts(session: Session, limit: int = 200) -> list[int]:
    rows = session.execute(select(Account.id).where(Account.status == "active").order_by(Account.id).limit(limit))
    return list(rows.scalars())


def _start(
    session: Session, settings: Settings, account_id: int, key: str, *, agent=None, draws=EXPLOIT, **kwargs
) -> CallState:
    """A price call the demo agent (or ``agent``) takes on this account; by default the policy's own choice (no
    exploration, no hold-out)."""
    kwargs.setdefault("reason", "price")
    agent = agent or get_user_by_username(session=session, username="agent")
    return start_call(
        session=session,
        settings=settings,
        account_id=account_id,
        agent_id=agent.id,
        idempotency_key=key,
        draws=draws,
        **kwargs,
    )


def _step(session: Session, settings: Settings, state: CallState) -> dict:
    """What every later step of the call takes: the session, the settings, the call and its own agent."""
    return {"session": session, "settings": settings, "call_id": state.call.id, "agent_id": state.call.agent_id}


def _call_with_offers(session: Session, settings: Settings, n: int = 2, agent: str = "agent") -> CallState:
    user = get_user_by_username(session=session, username=agent)
    for account_id in _active_accounts(session):
        state = _start(session, settings, account_id, f"test-{account_id}", agent=user)
        if len(state.suggested) >= n:
            return state
    raise AssertionError("no account in the test world has enough offers worth making")


def test_a_call_ranks_only_permitted_offers_with_propensities_summing_to_one(world) -> None:
    session, settings = world
    agent = get_user_by_username(session=session, username="agent")
    for account_id in _active_accounts(session, limit=40):
        call = _start(session, settings, account_id, f"k-{account_id}", agent=agent).call
        snapshot = load_account_snapshot(session, account_id)
        verdicts = check_offers(
            [o for o in offers_in_database(session=session) if o.active],
            facts_from_snapshot(snapshot, call.started_at.date()),
            today=call.started_at.date(),
            agent_tier=1,
            budget_left={},
        )
        permitted = {v.offer_code: v for v in verdicts if v.permitted}
        ranked = [item["offer_code"] for item in call.ranked if item["offer_code"]]
        assert set(ranked) == set(permitted)
        assert sum(item["propensity"] for item in call.ranked) == pytest.approx(1.0, abs=1e-6)
        for item in call.ranked:
            if item["offer_code"]:
                assert item["needs_approval"] == permitted[item["offer_code"]].needs_approval
        assert call.cancel_requested_at is not None and call.customer_value > 0


def test_the_same_key_never_logs_a_second_call(world) -> None:
    session, settings = world
    account_id = _active_accounts(session, limit=1)[0]
    agent = get_user_by_username(session=session, username="agent")
    kwargs = dict(session=session, settings=settings, account_id=account_id, agent_id=agent.id, idempotency_key="same")
    first = start_call(**kwargs)
    again = start_call(**kwargs)
    assert again.call.id == first.call.id
    assert session.execute(select(func.count()).where(Call.idempotency_key == "same")).scalar_one() == 1
    with pytest.raises(CallError, match="another account"):
        start_call(**{**kwargs, "account_id": account_id + 1})


def test_a_double_clicked_acceptance_logs_once_and_counts_the_budget_once(world) -> None:
    session, settings = world
    state = _call_with_offers(session, settings, n=1)
    call, step, code = state.call, _step(session, settings, state), state.suggested[0]
    offer = next(o for o in offers_in_database(session=session) if o.code == code)
    month = budget_month(utcnow())
    before = budget_left(session, [offer], month)[code]
    for _ in range(2):
        present_offer(**step, offer_code=code)
        answer_offer(**step, offer_code=code, accepted=True)
    assert session.execute(select(func.count()).where(CallOffer.call_id == call.id)).scalar_one() == 1
    history = session.execute(select(OfferHistory).where(OfferHistory.call_id == call.id)).scalars().all()
    assert [h.response for h in history] == ["accepted"]
    if before is not None:
        assert budget_left(session, [offer], month)[code] < before
    with pytest.raises(CallError, match="already recorded as accepted"):
        answer_offer(**step, offer_code=code, accepted=False)
    closed = finish_call(**step, disposition="saved_with_offer").call
    assert closed.offer_code == code and closed.disposition == "saved_with_offer"
    assert finish_call(**step, disposition="saved_with_offer").call.id == call.id


def test_the_desk_moves_on_after_the_offer_limit(world) -> None:
    session, settings = world
    settings = dataclasses.replace(settings, offer_policy=OfferPolicy(max_offers_per_call=1))
    state = _call_with_offers(session, settings, n=1)
    step = _step(session, settings, state)
    codes = [item["offer_code"] for item in state.call.ranked if item["offer_code"] and not item["needs_approval"]]
    present_offer(**step, offer_code=codes[0])
    with pytest.raises(CallError, match="had its 1 offers"):
        present_offer(**step, offer_code=codes[1])


def test_cancellation_is_one_step_at_any_moment_and_undoes_an_accepted_offer(world) -> None:
    session, settings = world
    state = _call_with_offers(session, settings, n=1)
    call, step, code = state.call, _step(session, settings, state), state.suggested[0]
    present_offer(**step, offer_code=code)
    answer_offer(**step, offer_code=code, accepted=True)
    closed = process_cancellation(**step, notes="Changed their mind.").call
    assert closed.disposition == "cancelled" and closed.offer_code is None
    assert session.get(Account, call.account_id).status == "cancelled"
    row = session.execute(select(CallOffer).where(CallOffer.call_id == call.id)).scalar_one()
    assert row.response == "withdrawn"
    with pytest.raises(CallError, match="already closed"):
        present_offer(**step, offer_code=code)


def test_a_hold_out_call_gets_no_offer(world) -> None:
    session, settings = world
    account_id = _active_accounts(session, limit=1)[0]
    state = _start(session, settings, account_id, "holdout", draws=(0.0, 0.0))
    assert state.call.decision_mode == "holdout" and state.suggested == []
    code = next(item["offer_code"] for item in state.call.ranked if item["offer_code"])
    with pytest.raises(CallError, match="hold-out"):
        present_offer(**_step(session, settings, state), offer_code=code)


def test_an_offer_above_the_agent_s_tier_needs_an_approval_first(world) -> None:
    session, settings = world
    agent = get_user_by_username(session=session, username="agent")
    supervisor = get_user_by_username(session=session, username="supervisor")
    for account_id in _active_accounts(session):
        state = _start(session, settings, account_id, f"approval-{account_id}", agent=agent)
        gated = [item["offer_code"] for item in state.call.ranked if item["needs_approval"]]
        if gated:
            break
    else:
        raise AssertionError("no account in the test world qualifies for a tier-2 offer")
    code, step = gated[0], _step(session, settings, state)
    assert code not in state.suggested
    with pytest.raises(CallError, match="approval"):
        present_offer(**step, offer_code=code)
    asked = request_approval(**step, offer_code=code).line(code)
    assert asked is not None and asked.approval is not None and asked.approval.status == "pending"
    decide(session=session, approver=supervisor, request_id=asked.approval.id, approve=True)
    presented = present_offer(**step, offer_code=code).line(code)
    assert presented is not None and presented.presented is not None


def test_protected_attributes_never_change_the_ranking(world) -> None:
    session, settings = world
    now = utcnow()
    for account_id in _active_accounts(session, limit=20):
        snapshot = load_account_snapshot(session, account_id)
        changed = dataclasses.replace(
            snapshot, birth_year=1930, extra={**snapshot.extra, "gender": "x", "age": 99, "_protected": ["x"]}
        )
        kwargs = dict(session=session, settings=settings, agent_tier=1, reason="price", now=now, draws=EXPLOIT)
        base = decide_offers(snapshot=snapshot, **kwargs).decision
        other = decide_offers(snapshot=changed, **kwargs).decision
        assert [i.as_log() for i in base.items] == [i.as_log() for i in other.items]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attempts=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=8),
    limit=st.integers(min_value=1, max_value=3),
    account_pick=st.integers(min_value=0, max_value=150),
    draws=st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)),
)
def test_no_call_ever_exceeds_the_offer_limit_nor_shows_a_non_permitted_offer(
    world, attempts: list[int], limit: int, account_pick: int, draws: tuple[float, float]
) -> None:
    session, settings = world
    settings = dataclasses.replace(settings, offer_policy=OfferPolicy(max_offers_per_call=limit))
    catalog = [o.code for o in offers_in_database(session=session)]
    accounts = _active_accounts(session)
    account_id = accounts[account_pick % len(accounts)]
    with session.begin_nested() as example:
        key = f"prop-{account_id}-{limit}-{len(attempts)}"
        state = _start(
            session,
            settings,
            account_id,
            key,
            reason="competitor_offer",
            draws=draws,
            now=utcnow() + timedelta(seconds=1),
        )
        call = state.call
        ranked = {item["offer_code"] for item in call.ranked if item["offer_code"]}
        for pick in attempts:
            code = catalog[pick % len(catalog)]
            try:
                present_offer(**_step(session, settings, state), offer_code=code)
                assert code in ranked
            except CallError:
                pass
            shown = session.execute(select(func.count()).where(CallOffer.call_id == call.id)).scalar_one()
            assert shown <= limit
        example.rollback()


def test_starting_a_call_reads_the_account_once_and_scores_it_once(world, monkeypatch) -> None:
    session, settings = world
    first, second = _active_accounts(session, limit=2)
    _start(session, settings, first, "warm-up")  # the scorer is compiled once per model, with its references
    reads, scores = [], []
    real_read, real_score = training_data._load_chunk, risk._score_rows
    monkeypatch.setattr(training_data, "_load_chunk", lambda *a: reads.append(a[1]) or real_read(*a))
    monkeypatch.setattr(risk, "_score_rows", lambda *a: scores.append(a[1]) or real_score(*a))
    state = _start(session, settings, second, "once")
    assert reads == [{second}] and len(scores) == 1
    assert state.call.risk_score == pytest.approx(risk.logged_risk(state.call).probability)


def test_a_supervisor_setting_the_reason_ranks_for_the_call_s_own_agent_whose_tier_still_needs_approval(
    world,
) -> None:
    session, settings = world
    agent = get_user_by_username(session=session, username="agent")
    supervisor = get_user_by_username(session=session, username="supervisor")
    for account_id in _active_accounts(session):
        state = _start(session, settings, account_id, f"tier-{account_id}", agent=agent, reason=None)
        step = _step(session, settings, state)
        reranked = choose_reason(**{**step, "agent_id": supervisor.id}, reason="price")
        gated = [line.code for line in reranked.lines if line.needs_approval]
        if gated:
            break
    else:
        raise AssertionError("no account in the test world qualifies for a tier-2 offer")
    with pytest.raises(CallError, match="approval"):
        present_offer(**step, offer_code=gated[0])
