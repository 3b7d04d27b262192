"""``retention-desk simulate``: the desk's own ranking, logging and nightly retraining, run against the synthetic
world's ground truth, next to simple policies and an oracle.

Every simulated day, callers are drawn from the seeded world's subscribers (riskier ones call more, with the call
hazard that drew the year of history). The world keeps living: tickets and outages go on at the world's rates and
reach the database at the end of each day. The stream of callers is kept stationary: the world has no new
customers, so a desk with hundreds of calls a day would otherwise run out of its riskiest subscribers within
weeks; callers are therefore drawn from the subscribers active when the run began, and one whose account the run
already closed stands for a new customer like them (their call is logged; the nightly job leaves it unlabelled).

Our policy serves each caller through the real call service (``services.calls``: eligibility, churn risk, offer
model, ``offers.ranking.rank_offers``, exploration and hold-out, the logged list with propensities,
presentations, answers and the disposition). The same callers, with the same dice, are then met by the baselines
— no offer; one random permitted offer; always the largest permitted discount — and by the ground-truth oracle.
Each night the real nightly job retrains the offer-response model on what has become labelled.

Figures per policy and day: save rate (still a subscriber when the call ends), durable save rate (still one at
the horizon), offer cost (the total cost of accepted offers), and net retained value = the customer value of
callers kept at the horizon who would have left had nothing been offered, minus the offer cost; also its
expected value (the same decisions valued by the ground truth's probabilities instead of the callers' dice,
which compares policies without the luck of the draw). The off-policy estimate of each night's new policy
(SWITCH doubly robust over the last week's logged calls, with their logged propensities) is set against the mean
reward that policy then realises the next day; the reward of a call is ``kept at the horizon × customer value − offer
cost``. The simulator knows each call's eventual fate at once; a real desk learns it a horizon later.

Simulated calls are written to a scratch copy of the database (SQLite: a copied file; PostgreSQL: a database
made from it as a template), so the demo's own data and model registry are left as they were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.ml.features import build_features
from retention_desk.ml.registry import clear_serving_cache
from retention_desk.services.calls.deciding import value_of
from retention_desk.services.calls.steps import (
    answer_offer,
    finish_call,
    present_offer,
    process_cancellation,
    start_call,
)
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.database import session_scope
from retention_desk.services.models.nightly import retrain_offer_model
from retention_desk.simulator.estimate import OPE_WINDOW_DAYS, Estimate, LoggedCall, estimate_serving_policy
from retention_desk.simulator.report import ORACLE, OURS, POLICIES, DayResult, SimulationReport, Tally, progress_line
from retention_desk.simulator.world import (
    SimulationError,
    active_world_ids,
    regenerate_world,
    seeded_world,
    write_tickets,
)
from retention_desk.storage.accounts import close_active_accounts
from retention_desk.storage.scratch import ScratchCopyError, scratch_copy
from retention_desk.storage.training_data import load_account_snapshot
from retention_desk.storage.users import active_agents
from retention_desk.synth.simulation import Callers, Outcome, SimulatedWorld

Progress = Callable[[int, str], None]


def run_simulation(
    *,
    settings: Settings,
    days: int,
    calls_per_day: int,
    seed: int = 1,
    retrain: bool = True,
    in_place: bool = False,
    label_horizon_days: int = 90,
    progress: Progress | None = None,
) -> SimulationReport:
    """Simulate ``days`` days of ``calls_per_day`` calls (see the module docstring)."""
    if not 1 <= days <= 365:
        raise SimulationError("The number of days must be between 1 and 365.")
    if not 1 <= calls_per_day <= 5000:
        raise SimulationError("The number of calls per day must be between 1 and 5,000.")
    if not 1 <= label_horizon_days <= 365:
        raise SimulationError("The label horizon must be between 1 and 365 days.")
    run = _Run(days, calls_per_day, seed, retrain, label_horizon_days)
    if in_place:
        return _simulate(settings, run, progress)
    try:
        with scratch_copy(settings) as scratch:
            return _simulate(scratch, run, progress)
    except ScratchCopyError as exc:
        raise SimulationError(str(exc)) from None


@dataclass(frozen=True)
class _Run:
    days: int
    calls_per_day: int
    seed: int
    retrain: bool
    label_horizon_days: int


def _simulate(settings: Settings, run: _Run, progress: Progress | None) -> SimulationReport:
    days, calls_per_day, seed = run.days, run.calls_per_day, run.seed
    url = settings.database_url
    with session_scope(url) as session:
        info = seeded_world(session)
        catalog = [o for o in offers_in_database(session=session) if o.active]
        agents = [agent.id or 0 for agent in active_agents(session)]
    if not agents:
        raise SimulationError("The database has no desk agents; run 'retention-desk seed' first.")
    world = regenerate_world(info, catalog)
    by_code = {o.code: o for o in catalog}
    costs = {o.code: float(total_cost(o)) for o in catalog}
    limit = settings.offer_policy.max_offers_per_call
    rng = np.random.default_rng([seed, 1])  # callers and their dice
    policy_rng = np.random.default_rng([seed, 2])  # our exploration and the random baseline
    report = SimulationReport(
        world={**info, "as_of": info["as_of"].isoformat(), "label_horizon_days": run.label_horizon_days},
        calls_per_day=calls_per_day,
    )
    leaving: dict[int, list[int]] = {}
    events = world.extend_events(np.random.default_rng([seed, 3]), days)
    with session_scope(url) as session:
        # The stream of callers stays the world's: see the module docstring.
        callable_ids = active_world_ids(session, info["accounts"])
    logged: list[list[LoggedCall]] = []  # per day
    estimate: Estimate | None = None
    for day in range(1, days + 1):
        start = datetime.combine(info["as_of"] + timedelta(days=day), time(8), tzinfo=UTC)
        with session_scope(url) as session:
            close_active_accounts(session, leaving.pop(day, []), start)  # relapsed saves leave
        callers = world.draw_callers(rng, day=day, active_ids=callable_ids, n_calls=calls_per_day)
        result = DayResult(day, start.date(), {p: Tally() for p in POLICIES}, Counter(), None)
        logged.append([])
        if estimate is not None:
            result.ope_estimate, result.ope_low, result.ope_high = estimate.value, estimate.low, estimate.high
            result.ope_self_normalised, result.ope_doubly_robust = estimate.self_normalised, estimate.doubly_robust
        with session_scope(url) as session:
            for i in range(len(callers)):
                now = start + timedelta(seconds=int(i * 43200 / max(len(callers), 1)))
                agent = agents[int(policy_rng.integers(len(agents)))]
                draws = (policy_rng.random(), policy_rng.random())
                entry = _serve(session, settings, world, callers, i, agent, now, draws, by_code)
                result.modes[entry["mode"]] += 1
                result.offer_model = entry["offer_model"]
                out: Outcome = entry["outcome"]
                value = entry["logged"].value
                expected, _ = world.expected(callers, i, entry["presented"], value, costs)
                result.policies[OURS].add(out, costs.get(out.accepted, 0.0), value, expected)
                if out.leave_in_days:
                    leaving.setdefault(day + out.leave_in_days, []).append(int(callers.account_ids[i]))
                logged[-1].append(entry["logged"])
                permitted = [o.code for o, gated in entry["logged"].permitted if not gated]
                orders = {
                    "no_offer": [],
                    "random_offer": [permitted[int(policy_rng.integers(len(permitted)))]] if permitted else [],
                    "largest_discount": _largest_discount(permitted, by_code),
                    ORACLE: world.oracle_order(callers, i, permitted, value, costs, limit),
                }
                for name, order in orders.items():
                    play = world.play(callers, i, order)
                    expected, _ = world.expected(callers, i, order, value, costs)
                    result.policies[name].add(play, costs.get(play.accepted, 0.0), value, expected)
            write_tickets(session, events, day, info["as_of"])
        report.days.append(result)
        if run.retrain:
            retrain_offer_model(
                settings=settings,
                now=start + timedelta(hours=16),
                horizon_days=run.label_horizon_days,
            )
            # A simulated night is hours long: the desk serves the night's champion from the first call of the day,
            # and the estimate below judges that policy. (The serving cache re-reads the champion every few seconds
            # of the clock; left alone, the stale model served part of the next day, more of it on a busier
            # machine, and runs from the same seed differed.)
            clear_serving_cache()
        estimate = estimate_serving_policy(settings, [e for calls in logged[-OPE_WINDOW_DAYS:] for e in calls])
        if progress:
            progress(day, progress_line(result))
    return report


def _serve(
    session: Session,
    settings: Settings,
    world: SimulatedWorld,
    callers: Callers,
    i: int,
    agent_id: int,
    now: datetime,
    draws: tuple[float, float],
    offers: dict[str, OfferSpec],
) -> dict[str, Any]:
    """One caller through the real call service: start (rank), present, answer, finish."""
    account_id = int(callers.account_ids[i])
    snapshot = load_account_snapshot(session, account_id)
    assert snapshot is not None
    state = start_call(
        session=session,
        settings=settings,
        account_id=account_id,
        agent_id=agent_id,
        idempotency_key=f"sim-{now:%Y%m%d}-{account_id}",
        reason=str(callers.reasons[i]),
        now=now,
        draws=draws,
        source="simulator",
    )
    call, presented = state.call, state.suggested
    step = {"session": session, "settings": settings, "call_id": call.id, "agent_id": agent_id, "now": now}
    outcome = world.play(callers, i, presented)
    for code, yes in outcome.answers:
        present_offer(**step, offer_code=code)
        answer_offer(**step, offer_code=code, accepted=yes)
    if outcome.accepted is not None:
        kind = world.kinds[outcome.accepted]
        finish_call(**step, disposition="downgraded" if kind == "downgrade" else "saved_with_offer")
    elif outcome.saved:
        finish_call(**step, disposition="saved_without_offer")
    else:
        process_cancellation(**step)
    features = build_features(snapshot, now)
    gated = {item["offer_code"]: bool(item.get("needs_approval")) for item in call.ranked if item["offer_code"]}
    value = value_of(snapshot, features, settings)
    cost = float(total_cost(offers[outcome.accepted])) if outcome.accepted else 0.0
    first = call.ranked[0]
    logged = LoggedCall(
        features=features,
        reason=call.cancel_reason,
        risk=call.risk_score,
        permitted=[(offers[code], flag) for code, flag in gated.items()],
        value=value,
        action=first["offer_code"],
        propensity=float(first["propensity"]),
        reward=outcome.durable * value - cost,
    )
    return {
        "outcome": outcome,
        "presented": presented,
        "logged": logged,
        "mode": call.decision_mode,
        "offer_model": call.offer_model_version,
    }


def _largest_discount(permitted: Sequence[str], by_code: dict[str, OfferSpec]) -> list[str]:
    discounts = [by_code[c] for c in permitted if by_code[c].kind == "percent_discount"]
    if not discounts:
        return []
    return [max(discounts, key=lambda o: (float(o.params.get("percent", 0)), o.code)).code]
