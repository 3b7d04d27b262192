"""A year of cancel-desk calls under the historical policy (up to three offers drawn uniformly at random),
the callers' answers and their later fate, all drawn from the ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retention_desk.synth import ground_truth as gt
from retention_desk.synth.events import late_bills_before

CALL_SHARE = 0.25  # accounts with one desk call in the past year
CALL_WINDOW_DAYS = 365
MAX_SHOWN = 3
NEVER = 10**6  # "leave day" of an account that stays
Columns = dict[str, Any]  # name → numpy array (one element per account, ticket, bill or call)


@dataclass(frozen=True)
class AgentRef:
    """A desk agent the historical calls can be assigned to."""

    id: int
    authority_tier: int = 1


def offer_fits_plan_and_contract(
    offer: dict[str, Any], plan_codes: np.ndarray, contract_types: np.ndarray
) -> np.ndarray:
    """The historical policy's only eligibility check: the offer's ``plans`` and ``contract_types`` rules.

    The desk's full rule engine (tenure, exclusions, cooldowns, budgets) lives elsewhere; the generator does not
    need it because these calls record what the old, simpler process offered.
    """
    rules = offer.get("rules") or {}
    fits = np.ones(len(plan_codes), dtype=bool)
    if rules.get("plans"):
        fits &= np.isin(plan_codes, rules["plans"])
    if rules.get("contract_types"):
        fits &= np.isin(contract_types, rules["contract_types"])
    return fits


def shown_propensity(n_eligible: np.ndarray) -> np.ndarray:
    """P(a given eligible offer is shown) when k ~ uniform{0..3} offers are drawn uniformly without replacement."""
    ks = np.arange(MAX_SHOWN + 1)
    expected = np.minimum(ks[None, :], n_eligible[:, None]).mean(axis=1)
    return np.where(n_eligible > 0, expected / np.maximum(n_eligible, 1), 0.0)


def decision_propensities(n_eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P(a given eligible offer came first), P(no offer)) under the historical policy, per call.

    The decision of a call is what came first: with k ~ uniform{0..3} offers, no offer when k = 0, else a uniformly
    drawn eligible offer. Over a call's eligible offers and "no offer" these sum to 1.
    """
    none = np.where(n_eligible > 0, 1.0 / (MAX_SHOWN + 1), 1.0)
    return np.where(n_eligible > 0, (1.0 - none) / np.maximum(n_eligible, 1), 0.0), none


def account_features(
    acc: Columns, tickets: Columns, grid: Columns, idx: np.ndarray, day: np.ndarray
) -> dict[str, np.ndarray]:
    """Ground-truth features of accounts ``idx`` as of ``day`` (arrays), from the events dated before it."""
    n = acc["n"]
    day_of = np.full(n, np.iinfo(np.int32).min, dtype=np.int64)
    day_of[idx] = day
    tday = day_of[tickets["idx"]]
    age = tday - tickets["day"]
    outage = tickets["kind"] == "outage"

    def count(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(tickets["idx"][mask], weights=w, minlength=n)[idx]

    recent90, recent30 = (age > 0) & (age <= 90), (age > 0) & (age <= 30)
    rise_pct = np.where(acc["rise_exposed"], 100 * (acc["monthly_charge"] / acc["charge_before_rise"] - 1), 0.0)[idx]
    seen = acc["rise_day"] < day
    return {
        "contract_type": acc["contract_type"][idx],
        "segment": acc["segment"][idx],
        "tenure_months": (day - acc["since_day"][idx]) / 30.44,
        "price_rise_pct": np.where(seen, rise_pct, 0.0),
        "days_since_rise": np.where(seen, day - acc["rise_day"], 999),
        "outages_90d": count(recent90 & outage),
        "outage_hours_90d": count(recent90 & outage, tickets["hours"]),
        "tickets_30d": count(recent30 & ~outage),
        "tickets_90d": count(recent90 & ~outage),
        "competitor_pressure": acc["competitor_pressure"][idx],
        "late_bills_12m": late_bills_before(grid, idx, day, n),
        "tv_hours_per_week": acc["tv_hours_per_week"][idx],
        "data_gb_per_month": acc["data_gb_per_month"][idx],
        "has_tv": acc["has_tv"][idx].astype(float),
        "latent": acc["latent"][idx],
    }


def _call_days(
    rng: np.random.Generator, acc: Columns, tickets: Columns, callers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Calls cluster after a price rise and after trouble; the rest fall anywhere in the year."""
    lo = np.maximum(-CALL_WINDOW_DAYS, acc["since_day"][callers] + 20)
    uniform = rng.integers(lo, 0)
    after_rise = acc["rise_day"] + rng.exponential(35, len(callers)).astype(int)
    last_trouble = np.full(acc["n"], -(10**6), dtype=np.int64)
    if len(tickets["idx"]):
        np.maximum.at(last_trouble, tickets["idx"], tickets["day"] - rng.integers(0, 120, len(tickets["idx"])))
    after_trouble = last_trouble[callers] + rng.exponential(6, len(callers)).astype(int)
    u = rng.random(len(callers))
    day = np.where((u < 0.30) & acc["rise_exposed"][callers], after_rise, uniform)
    day = np.where((u > 0.55) & (last_trouble[callers] > lo), after_trouble, day)
    day = np.clip(day, lo, -1)
    return day, rng.integers(8 * 3600, 20 * 3600, len(callers))


def desk_history(
    rng: np.random.Generator,
    acc: dict[str, Any],
    tickets: dict[str, Any],
    grid: dict[str, Any],
    offers: Sequence[dict[str, Any]],
    agents: Sequence[AgentRef],
    seed: int,
) -> dict[str, Any]:
    """Draw who called, when, why, what they were shown and said, and when they left (``acc['leave_day']``)."""
    n = acc["n"]
    everyone = np.arange(n)
    baseline = account_features(acc, tickets, grid, everyone, np.full(n, -90))
    p_call = gt.call_probability(gt.churn_logit(baseline), CALL_SHARE)
    callers = everyone[(rng.random(n) < p_call) & (acc["since_day"] < -21)]
    day, second = _call_days(rng, acc, tickets, callers)
    order = np.lexsort((second, day))
    callers, day, second = callers[order], day[order], second[order]
    feats = account_features(acc, tickets, grid, callers, day)
    reasons = gt.draw_cancel_reason(feats, rng)
    unsavable = gt.draw_unsavable(reasons, rng)
    churn_p = gt.churn_probability(feats)
    stays_anyway = (rng.random(len(callers)) < 1 - churn_p) & ~unsavable
    shown = _show_offers(rng, acc, callers, offers)
    outcome = _answers(rng, shown, offers, reasons, feats, unsavable, stays_anyway)
    calls = {
        "churn_p": churn_p,
        "idx": callers,
        "day": day,
        "second": second,
        "reason": reasons,
        "unsavable": unsavable,
        **shown,
        **outcome,
    }
    calls["agent_id"] = _agents(rng, agents, len(callers))
    _fates(rng, acc, calls, offers)
    calls["seed"] = seed
    calls["offers"] = list(offers)
    return calls


def _agents(rng: np.random.Generator, agents: Sequence[AgentRef], n: int) -> np.ndarray:
    if not agents:
        return np.full(n, None, dtype=object)
    return np.asarray([a.id for a in agents], dtype=object)[rng.integers(0, len(agents), n)]


def _show_offers(rng: np.random.Generator, acc: dict[str, Any], callers: np.ndarray, offers: Sequence[dict]) -> dict:
    """k ~ uniform{0..3} offers drawn uniformly from those that fit the plan and contract, in random order."""
    plan, contract = acc["plan_code"][callers], acc["contract_type"][callers]
    eligible = np.column_stack([offer_fits_plan_and_contract(o, plan, contract) for o in offers])
    n_eligible = eligible.sum(axis=1)
    keys = np.where(eligible, rng.random(eligible.shape), np.inf)
    order = np.argsort(keys, axis=1)[:, :MAX_SHOWN]
    k = np.minimum(rng.integers(0, MAX_SHOWN + 1, len(callers)), n_eligible)
    first, none = decision_propensities(n_eligible)
    return {
        "shown": order,
        "k": k,
        "eligible": eligible,
        "propensity": shown_propensity(n_eligible),
        "first_propensity": first,
        "none_propensity": none,
    }


def _answers(
    rng: np.random.Generator,
    shown: Columns,
    offers: Sequence[dict[str, Any]],
    reasons: np.ndarray,
    feats: Columns,
    unsavable: np.ndarray,
    stays_anyway: np.ndarray,
) -> Columns:
    """Offers are presented in rank order until one is accepted; each answer follows the ground truth."""
    m = len(reasons)
    lift = np.column_stack([gt.offer_lift(o, reasons, feats, unsavable) for o in offers]) if m else np.zeros((0, 0))
    accepted_rank = np.full(m, -1)
    presented = np.zeros((m, MAX_SHOWN), dtype=bool)
    rows = np.arange(m)
    for rank in range(MAX_SHOWN):
        open_ = (shown["k"] > rank) & (accepted_rank < 0)
        presented[:, rank] = open_
        p = gt.acceptance_probability(lift[rows, shown["shown"][:, rank]] if m else np.zeros(0), stays_anyway)
        yes = open_ & (rng.random(m) < p)
        accepted_rank = np.where(yes, rank, accepted_rank)
    accepted_offer = np.where(accepted_rank >= 0, shown["shown"][rows, np.maximum(accepted_rank, 0)], -1)
    return {
        "presented": presented,
        "accepted_rank": accepted_rank,
        "accepted_offer": accepted_offer,
        "stays_anyway": stays_anyway,
    }


def _fates(rng: np.random.Generator, acc: dict[str, Any], calls: dict[str, Any], offers: Sequence[dict]) -> None:
    """Disposition per call and the day each account leaves (NEVER if it stays)."""
    m = len(calls["idx"])
    kinds = np.asarray([o["kind"] for o in offers] + [None], dtype=object)
    accepted_kind = kinds[calls["accepted_offer"]]  # -1 picks the trailing None
    saved = (calls["accepted_offer"] >= 0) | calls["stays_anyway"]
    durable = gt.durable_probability(
        np.where(calls["accepted_offer"] >= 0, accepted_kind, None),
        calls["reason"],
        acc["contract_type"][calls["idx"]],
        calls["churn_p"],
    )
    relapse = saved & (rng.random(m) >= durable)
    u = rng.random(m)
    disposition = np.where(u < 0.88, "cancelled", np.where(u < 0.95, "callback", "escalated")).astype(object)
    disposition = np.where(calls["stays_anyway"], "saved_without_offer", disposition)
    disposition = np.where(calls["accepted_offer"] >= 0, "saved_with_offer", disposition)
    disposition = np.where(accepted_kind == "downgrade", "downgraded", disposition)
    delay = np.select(
        [relapse, disposition == "cancelled", ~saved],
        [rng.integers(14, 90, m), rng.integers(0, 4, m), rng.integers(3, 15, m)],
        0,
    )
    leave = np.where(saved & ~relapse, NEVER, calls["day"] + delay)
    acc["leave_day"] = np.full(acc["n"], NEVER, dtype=np.int64)
    acc["leave_day"][calls["idx"]] = leave
    calls["disposition"] = disposition
    calls["accepted_kind"] = accepted_kind


def earlier_offers(rng: np.random.Generator, acc: dict[str, Any], offers: Sequence[dict]) -> dict[str, Any]:
    """Retention offers from before the desk's call records (the billing system's past), for long-standing accounts."""
    idx = np.flatnonzero((acc["since_day"] < -500) & (rng.random(acc["n"]) < 0.08))
    lo = np.maximum(acc["since_day"][idx] + 30, -1100)
    return {
        "idx": idx,
        "offer": rng.integers(0, len(offers), len(idx)),
        "day": rng.integers(lo, -400),
        "second": rng.integers(9 * 3600, 19 * 3600, len(idx)),
        "accepted": rng.random(len(idx)) < 0.4,
    }
