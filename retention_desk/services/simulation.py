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

import math
import os
import random
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.ml.features import Feature, build_features
from retention_desk.ml.policy_value import estimate_policy_value, paired_ratio
from retention_desk.ml.registry import clear_serving_cache
from retention_desk.offers.ranking import first_actions
from retention_desk.services.calls import (
    candidates_for,
    finish_call,
    present_offer,
    process_cancellation,
    record_response,
    start_call,
    suggested_offers,
    value_of,
)
from retention_desk.services.catalog import offers_in_database
from retention_desk.services.offer_scoring import predict_offers
from retention_desk.services.seeding import load_plans
from retention_desk.services.training import retrain_offer_model
from retention_desk.storage.db import dispose_engines, session_scope
from retention_desk.storage.tables import Account, AuditEvent, Ticket, User
from retention_desk.storage.training_data import load_account_snapshot
from retention_desk.synth.events import SUMMARIES
from retention_desk.synth.simulation import Callers, Outcome, SimulatedWorld

OURS = "ours"
BASELINES = ("no_offer", "random_offer", "largest_discount")
ORACLE = "oracle"
POLICIES = (OURS, *BASELINES, ORACLE)
LAST_WEEK = 7
# The nightly off-policy estimate rests on the last week's calls, not every call of the run: the callers drift
# (accounts leave, faults come and go), and the estimate is set against the next day's callers. On three 30-day
# runs the estimate over every call was 4.5%, 13.5% and 5.6% off the realised value; over the last week's, 0.4%,
# 3.5% and 1.1% (docs/offers.md).
OPE_WINDOW_DAYS = 7
# A logged call the new policy would repeat has weight (its P / the logged propensity) about 1; one whose explored
# offer or hold-out the new policy now takes has 35-235. Above this weight the estimate takes the offer model's value
# of the call instead of the logged reward × weight (SWITCH-DR, ml/policy_value.py): on nine 30-day runs the worst
# week of estimates was 6-17% off the realised reward with plain DR, 5-10% switched; thresholds 5-20 gave identical
# estimates on seven of them (docs/offers.md).
OPE_SWITCH_WEIGHT = 10.0
Progress = Callable[[int, str], None]


class SimulationError(ValueError):
    """The simulation cannot run; one sentence for the operator."""


@dataclass
class Tally:
    calls: int = 0
    saved: int = 0
    durable: int = 0
    cost: float = 0.0
    reward: float = 0.0
    # Per call, in the order served (every policy meets the same callers in the same order, so lists of two
    # policies pair up call by call): the totals below, and the interval of "ours against the oracle".
    net_values: list[float] = field(default_factory=list)
    expected_net_values: list[float] = field(default_factory=list)  # valued by the truth's probabilities, not dice

    @property
    def net_value(self) -> float:
        return float(sum(self.net_values))

    @property
    def expected_net_value(self) -> float:
        return float(sum(self.expected_net_values))

    def add(self, outcome: Outcome, cost: float, value: float, expected_net_value: float = 0.0) -> None:
        self.calls += 1
        self.saved += outcome.saved
        self.durable += outcome.durable
        self.cost += cost
        self.reward += outcome.durable * value - cost
        self.net_values.append(outcome.net_value(value, cost))
        self.expected_net_values.append(expected_net_value)

    def merged(self, other: Tally) -> Tally:
        """Both days' figures; the per-call lists are concatenated (list + list)."""
        return Tally(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def as_dict(self) -> dict[str, Any]:
        n = max(self.calls, 1)
        return {
            "calls": self.calls,
            "save_rate": round(self.saved / n, 4),
            "durable_save_rate": round(self.durable / n, 4),
            "offer_cost": round(self.cost, 2),
            "net_retained_value": round(self.net_value, 2),
            "expected_net_retained_value": round(self.expected_net_value, 2),
            "mean_reward": round(self.reward / n, 2),
        }


@dataclass
class DayResult:
    day: int
    date: date
    policies: dict[str, Tally]
    modes: Counter
    offer_model: str | None
    ope_estimate: float | None = None  # SWITCH-DR estimate, made the night before, of this day's mean reward
    ope_low: float | None = None
    ope_high: float | None = None
    ope_self_normalised: float | None = None  # the same with self-normalised weights (ml/policy_value.py)
    ope_doubly_robust: float | None = None  # plain DR, every logged correction kept: for comparison


@dataclass
class SimulationReport:
    world: dict[str, Any]
    calls_per_day: int
    days: list[DayResult] = field(default_factory=list)

    def totals(self, days: Sequence[DayResult]) -> dict[str, Tally]:
        out = {p: Tally() for p in POLICIES}
        for day in days:
            for p in POLICIES:
                out[p] = out[p].merged(day.policies[p])
        return out

    def summary(self) -> dict[str, Any]:
        """The last week (or the whole run when shorter) per policy, the ratios the issue asks about, and the
        off-policy estimate against the realised value."""
        window = self.days[-LAST_WEEK:]
        totals = self.totals(window)
        ours, oracle = totals[OURS].net_value, totals[ORACLE].net_value
        best = max(BASELINES, key=lambda p: totals[p].net_value)
        best_value = totals[best].net_value
        expected = {p: totals[p].expected_net_value for p in POLICIES}
        best_expected = max(BASELINES, key=lambda p: expected[p])
        estimated = [d for d in window if d.ope_estimate is not None]
        estimate = float(np.mean([d.ope_estimate for d in estimated])) if estimated else None
        normalised = [d.ope_self_normalised for d in estimated if d.ope_self_normalised is not None]
        estimate_sn = float(np.mean(normalised)) if normalised and len(normalised) == len(estimated) else None
        plain = [d.ope_doubly_robust for d in estimated if d.ope_doubly_robust is not None]
        estimate_dr = float(np.mean(plain)) if plain and len(plain) == len(estimated) else None
        realised = (
            float(np.mean([d.policies[OURS].reward / max(d.policies[OURS].calls, 1) for d in estimated]))
            if estimated
            else None
        )
        return {
            "window_days": [window[0].day, window[-1].day] if window else None,
            "policies": {p: totals[p].as_dict() for p in POLICIES},
            "ours_vs_oracle": _ratio(ours, oracle),
            "ours_vs_oracle_interval": _ratio_interval(totals[OURS].net_values, totals[ORACLE].net_values),
            "best_baseline": best,
            "ours_vs_best_baseline": _ratio(ours, best_value),
            **_above(ours, best_value),
            "expected": {
                "ours_vs_oracle": _ratio(expected[OURS], expected[ORACLE]),
                "ours_vs_oracle_interval": _ratio_interval(
                    totals[OURS].expected_net_values, totals[ORACLE].expected_net_values
                ),
                "best_baseline": best_expected,
                "ours_vs_best_baseline": _ratio(expected[OURS], expected[best_expected]),
                **_above(expected[OURS], expected[best_expected]),
            },
            "off_policy": {
                "estimator": "switch_doubly_robust",
                "switch_weight": OPE_SWITCH_WEIGHT,
                "estimated_mean_reward": None if estimate is None else round(estimate, 2),
                "realised_mean_reward": None if realised is None else round(realised, 2),
                "relative_error": _relative_error(estimate, realised),
                "self_normalised_estimate": None if estimate_sn is None else round(estimate_sn, 2),
                "self_normalised_relative_error": _relative_error(estimate_sn, realised),
                "doubly_robust_estimate": None if estimate_dr is None else round(estimate_dr, 2),
                "doubly_robust_relative_error": _relative_error(estimate_dr, realised),
            },
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "world": self.world,
            "calls_per_day": self.calls_per_day,
            "summary": self.summary(),
            "days": [
                {
                    "day": d.day,
                    "date": d.date.isoformat(),
                    "offer_model": d.offer_model,
                    "modes": dict(d.modes),
                    "policies": {p: d.policies[p].as_dict() for p in POLICIES},
                    "off_policy": {
                        "estimated_mean_reward": _round(d.ope_estimate),
                        "self_normalised_estimate": _round(d.ope_self_normalised),
                        "doubly_robust_estimate": _round(d.ope_doubly_robust),
                        "interval": [_round(d.ope_low), _round(d.ope_high)],
                        "realised_mean_reward": round(d.policies[OURS].reward / max(d.policies[OURS].calls, 1), 2),
                    },
                }
                for d in self.days
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else round(a / b, 4)


def _relative_error(estimate: float | None, realised: float | None) -> float | None:
    return None if not (estimate and realised) else round(abs(estimate / realised - 1), 4)


def _ratio_interval(ours: Sequence[float], oracle: Sequence[float]) -> list[float] | None:
    """95% interval of ours / oracle over the window's callers (ml/policy_value.paired_ratio); None if undefined."""
    _, low, high = paired_ratio(ours, oracle)
    return [round(low, 4), round(high, 4)] if math.isfinite(low) and math.isfinite(high) else None


def _above(ours: float, best: float) -> dict[str, Any]:
    """How far ours is above the best baseline in money, and whether by at least 20% of it; a ratio says nothing
    when the best baseline is no offer (0) or loses money."""
    return {
        "ours_minus_best_baseline": round(ours - best, 2),
        "ours_at_least_20pct_above_best_baseline": bool(ours > best and ours - best >= 0.2 * abs(best)),
    }


@dataclass
class _Logged:
    """One of our calls as the off-policy estimate needs it."""

    features: dict[str, Feature]
    reason: str | None
    risk: float | None
    permitted: list[tuple[OfferSpec, bool]]
    value: float
    action: str | None
    propensity: float
    reward: float


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
    with _scratch_copy(settings) as scratch:
        return _simulate(scratch, run, progress)


@dataclass(frozen=True)
class _Run:
    days: int
    calls_per_day: int
    seed: int
    retrain: bool
    label_horizon_days: int


@contextmanager
def _scratch_copy(settings: Settings) -> Iterator[Settings]:
    """Settings for a copy of the database and an empty model folder, both removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="retention-desk-sim-"))
    pg_name: str | None = None
    try:
        if settings.is_sqlite:
            source = make_url(settings.database_url).database
            if not source or source == ":memory:":
                raise SimulationError("The simulator needs a database file, not an in-memory database.")
            target = folder / "simulation.sqlite3"
            with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            copy_url = f"sqlite:///{target}"
        else:
            parsed = make_url(settings.database_url)
            name = f"{parsed.database}_sim_{random.getrandbits(32):08x}"
            dispose_engines()  # our own idle connections to the source would block the copy
            try:
                _admin(settings.database_url, f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')
            except Exception as exc:  # noqa: BLE001  (the server's reason goes to the operator)
                first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                raise SimulationError(
                    "Could not copy the database for the simulation (PostgreSQL copies only a database nobody "
                    f"else is connected to; stop the app or use --in-place on a scratch database): {first}"
                ) from None
            pg_name = name
            copy_url = parsed.set(database=name).render_as_string(hide_password=False)
        models = folder / "models"
        if Path(settings.model_dir).is_dir():  # else the registry restores each from the database copy, noisily
            shutil.copytree(
                settings.model_dir, models, ignore=shutil.ignore_patterns("*.tmp", ".*"), copy_function=_link_or_copy
            )
        yield replace(settings, database_url=copy_url, model_dir=models)
    finally:
        dispose_engines()
        if pg_name:
            _admin(settings.database_url, f'DROP DATABASE IF EXISTS "{pg_name}"')
        shutil.rmtree(folder, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """Artifacts are written once and replaced by renaming, never changed in place, so a hard link is a safe copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _admin(url: str, statement: str) -> None:
    """Run a database-level statement from the server's maintenance database (not the one being copied)."""
    engine = create_engine(make_url(url).set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def seeded_world(session: Session) -> dict[str, Any]:
    """The seeded synthetic world's size, seed and date (from the seeding's audit row): what regenerates it."""
    event = session.execute(
        select(AuditEvent).where(AuditEvent.action == "world_seeded").order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    if event is None or not event.after:
        raise SimulationError("This database holds no seeded synthetic world; run 'retention-desk seed' first.")
    info = dict(event.after)
    return {"accounts": int(info["accounts"]), "seed": int(info["seed"]), "as_of": date.fromisoformat(info["as_of"])}


def regenerate_world(info: dict[str, Any], catalog: Sequence[OfferSpec]) -> SimulatedWorld:
    """The ground truth of the world ``seeded_world`` describes, answering for these offers."""
    return SimulatedWorld.regenerate(
        n_accounts=info["accounts"],
        seed=info["seed"],
        as_of=info["as_of"],
        plans=load_plans(),
        offers=[o.as_dict() for o in catalog],
    )


def _simulate(settings: Settings, run: _Run, progress: Progress | None) -> SimulationReport:
    days, calls_per_day, seed = run.days, run.calls_per_day, run.seed
    url = settings.database_url
    with session_scope(url) as session:
        info = seeded_world(session)
        catalog = [o for o in offers_in_database(session=session) if o.active]
        agents = list(session.execute(select(User).where(User.role == "agent", User.active)).scalars())
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
    logged: list[list[_Logged]] = []  # per day
    estimate: _Estimate | None = None
    for day in range(1, days + 1):
        start = datetime.combine(info["as_of"] + timedelta(days=day), time(8), tzinfo=UTC)
        with session_scope(url) as session:
            _close_accounts(session, leaving.pop(day, []), start)
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
            _write_tickets(session, events, day, info["as_of"])
        report.days.append(result)
        if run.retrain:
            retrain_offer_model(
                settings=settings,
                now=start + timedelta(hours=16),
                horizon_days=run.label_horizon_days,
                progress=False,
            )
            # A simulated night is hours long: the desk serves the night's champion from the first call of the day,
            # and the estimate below judges that policy. (The serving cache re-reads the champion every few seconds
            # of the clock; left alone, the stale model served part of the next day, more of it on a busier
            # machine, and runs from the same seed differed.)
            clear_serving_cache()
        estimate = _off_policy_estimate(settings, [e for calls in logged[-OPE_WINDOW_DAYS:] for e in calls])
        if progress:
            progress(day, _progress_line(result))
    return report


def _serve(
    session: Session,
    settings: Settings,
    world: SimulatedWorld,
    callers: Callers,
    i: int,
    agent: User,
    now: datetime,
    draws: tuple[float, float],
    offers: dict[str, OfferSpec],
) -> dict[str, Any]:
    """One caller through the real desk service: open, rank, present, answer, close."""
    account_id = int(callers.account_ids[i])
    snapshot = load_account_snapshot(session, account_id)
    assert snapshot is not None
    call = start_call(
        session=session,
        settings=settings,
        account_id=account_id,
        agent=agent,
        idempotency_key=f"sim-{now:%Y%m%d}-{account_id}",
        reason=str(callers.reasons[i]),
        now=now,
        draws=draws,
    )
    call.source = "simulator"
    presented = suggested_offers(call, settings)
    outcome = world.play(callers, i, presented)
    for code, yes in outcome.answers:
        present_offer(session=session, settings=settings, call_id=call.id, offer_code=code, now=now)
        record_response(session=session, call_id=call.id, offer_code=code, accepted=yes, now=now)
    if outcome.accepted is not None:
        kind = world.kinds[outcome.accepted]
        finish_call(
            session=session,
            call_id=call.id,
            disposition="downgraded" if kind == "downgrade" else "saved_with_offer",
            now=now,
        )
    elif outcome.saved:
        finish_call(session=session, call_id=call.id, disposition="saved_without_offer", now=now)
    else:
        process_cancellation(session=session, call_id=call.id, now=now)
    features = build_features(snapshot, now)
    gated = {item["offer_code"]: bool(item.get("needs_approval")) for item in call.ranked if item["offer_code"]}
    value = value_of(snapshot, features, settings)
    cost = float(total_cost(offers[outcome.accepted])) if outcome.accepted else 0.0
    first = call.ranked[0]
    logged = _Logged(
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


class _Estimate(NamedTuple):
    value: float
    low: float
    high: float
    self_normalised: float | None
    doubly_robust: float | None


def _off_policy_estimate(settings: Settings, logged: Sequence[_Logged]) -> _Estimate | None:
    """SWITCH-DR estimate (with its 95% interval) of the serving policy's mean reward, from the calls logged in the
    window (``OPE_WINDOW_DAYS``): the offer model's expected reward under the policy, corrected by the logged
    rewards weighted by target / logged propensity where that weight is at most ``OPE_SWITCH_WEIGHT``. (SNIPS
    alone leans on the few explored calls whose action the new policy now prefers, each weighted ~1 / (explore
    share / offers); the model term takes that variance away.)"""
    if not logged:
        return None
    with session_scope(settings.database_url) as session:
        catalog = [o for o in offers_in_database(session=session) if o.active]
        predictions, _version = predict_offers(
            session=session,
            settings=settings,
            rows=[entry.features for entry in logged],
            reasons=[entry.reason for entry in logged],
            offers=catalog,
            risks=[entry.risk for entry in logged],
        )
    target, q_target, q_logged = [], [], []
    for entry, prediction in zip(logged, predictions, strict=True):
        candidates = candidates_for(entry.permitted, prediction)
        actions = first_actions(
            candidates=candidates,
            p_stay_none=prediction.p_stay_none,
            customer_value=entry.value,
            policy=settings.offer_policy,
            rules_only=entry.risk is None,
        )
        # The call's expected reward after each first action, the rest of the call planned as the desk would.
        q = {action: prediction.p_stay_none * entry.value + v for action, (_, v) in actions.items()}
        target.append(actions[entry.action][0] if entry.action in actions else 0.0)
        q_target.append(sum(p * q[action] for action, (p, _) in actions.items()))
        q_logged.append(q.get(entry.action, q[None]))
    arrays = (
        np.array([entry.reward for entry in logged]),
        np.array([entry.propensity for entry in logged]),
        np.array(target),
    )
    models = (np.array(q_target), np.array(q_logged))
    value = estimate_policy_value(*arrays, model_values=models, switch_weight=OPE_SWITCH_WEIGHT)
    plain = estimate_policy_value(*arrays, model_values=models)
    assert value.dr is not None
    return _Estimate(value.dr, value.ci_low, value.ci_high, value.dr_self_normalised, plain.dr)


def _close_accounts(session: Session, account_ids: Sequence[int], when: datetime) -> None:
    """Relapsed saves leave on the day the simulation reaches (the billing system's part)."""
    if account_ids:
        session.execute(
            update(Account)
            .where(Account.id.in_(list(account_ids)), Account.status == "active")
            .values(status="cancelled", status_changed_at=when)
        )


def _write_tickets(session: Session, events: dict[str, Any], day: int, as_of: date) -> None:
    """The day's tickets and outages reach the database at its end, as a ticket system would feed them."""
    for k in np.flatnonzero(events["day"] == day):
        opened = datetime.combine(as_of + timedelta(days=day), time(0), tzinfo=UTC) + timedelta(
            seconds=int(events["second"][k])
        )
        hours = float(events["hours"][k])
        kind = str(events["kind"][k])
        session.add(
            Ticket(
                account_id=int(events["account_id"][k]),
                kind=kind,
                opened_at=opened,
                closed_at=opened + timedelta(hours=hours if hours == hours else 24),
                duration_hours=hours if kind == "outage" and hours == hours else None,
                summary=SUMMARIES.get(kind, ""),
            )
        )


def active_world_ids(session: Session, n_accounts: int) -> np.ndarray:
    """The possible callers: the seeded world's subscribers that were active when the run began."""
    ids = session.execute(
        select(Account.id).where(Account.status == "active", Account.source == "synthetic", Account.id <= n_accounts)
    ).scalars()
    return np.array(sorted(ids), dtype=np.int64)


def _progress_line(day: DayResult) -> str:
    ours, oracle = day.policies[OURS], day.policies[ORACLE]
    return f"day {day.day}: {ours.calls} calls, ours {ours.net_value:,.0f} vs oracle {oracle.net_value:,.0f}"


# --- presentation -----------------------------------------------------------------------------------------


def format_table(report: SimulationReport) -> str:
    """A plain-text table: per day and policy the four figures, then the summary."""
    lines = []
    header = f"{'day':>4} {'policy':<17} {'calls':>6} {'saved':>7} {'durable':>8} {'cost':>12} {'net value':>12}"
    lines.append(header)
    for day in report.days:
        for p in POLICIES:
            t = day.policies[p].as_dict()
            lines.append(
                f"{day.day:>4} {p:<17} {t['calls']:>6} {t['save_rate']:>7.1%} {t['durable_save_rate']:>8.1%} "
                f"{t['offer_cost']:>12,.0f} {t['net_retained_value']:>12,.0f}"
            )
    summary = report.summary()
    lines.append("")
    first, last = summary["window_days"]
    whole = first == report.days[0].day  # the summary's window reaches back to the first day
    span = f"The whole run, {len(report.days)} days" if whole else f"Last {LAST_WEEK} days"
    lines.append(f"{span} (days {first}–{last}):")
    for p in POLICIES:
        t = summary["policies"][p]
        lines.append(
            f"  {p:<17} save {t['save_rate']:.1%}, durable {t['durable_save_rate']:.1%}, "
            f"cost {t['offer_cost']:,.0f}, net retained value {t['net_retained_value']:,.0f} "
            f"(expected {t['expected_net_retained_value']:,.0f})"
        )
    for label, part in (("realised", summary), ("expected", summary["expected"])):
        interval = part["ours_vs_oracle_interval"]
        luck = f" (95% interval {_pct(interval[0])}–{_pct(interval[1])})" if interval else ""
        lines.append(
            f"  {label}: ours / oracle = {_pct(part['ours_vs_oracle'])}{luck}; ours / best baseline "
            f"({part['best_baseline']}) = {_pct(part['ours_vs_best_baseline'])}, "
            f"{part['ours_minus_best_baseline']:,.0f} above it"
        )
    ope = summary["off_policy"]
    if ope["estimated_mean_reward"] is not None:
        lines.append(
            f"  off-policy estimate {ope['estimated_mean_reward']:,.0f} per call vs realised "
            f"{ope['realised_mean_reward']:,.0f} (relative error {_pct(ope['relative_error'])}; SWITCH-DR, "
            f"weights above {OPE_SWITCH_WEIGHT:g} left to the model)"
        )
    if ope["doubly_robust_estimate"] is not None:
        lines.append(
            f"  plain doubly robust estimate {ope['doubly_robust_estimate']:,.0f} per call "
            f"(relative error {_pct(ope['doubly_robust_relative_error'])})"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.1%}"


def write_chart(report: SimulationReport, path: Path) -> None:
    """Net retained value per day by policy, and the off-policy estimate against the realised reward."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [d.day for d in report.days]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
    for p in POLICIES:
        top.plot(days, [d.policies[p].net_value for d in report.days], marker="o", markersize=3, label=p)
    top.axhline(0, color="grey", linewidth=0.8)
    top.set_ylabel(f"net retained value per day ({'NOK'})")
    top.set_title("Simulated cancel desk: our policy against baselines and the oracle")
    top.legend(loc="best", fontsize=8)
    realised = [d.policies[OURS].reward / max(d.policies[OURS].calls, 1) for d in report.days]
    bottom.plot(days, realised, marker="o", markersize=3, label="realised mean reward (ours)")
    est = [(d.day, d.ope_estimate, d.ope_low, d.ope_high) for d in report.days if d.ope_estimate is not None]
    if est:
        bottom.plot([e[0] for e in est], [e[1] for e in est], marker="s", markersize=3, label="off-policy estimate")
        bottom.fill_between([e[0] for e in est], [e[2] for e in est], [e[3] for e in est], alpha=0.2)
    bottom.set_xlabel("simulated day")
    bottom.set_ylabel("mean reward per call")
    bottom.legend(loc="best", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
