"""Judging an offer-response model the way the desk uses it: the value its greedy ranking would have realised on
logged decisions it never saw, estimated off-policy (``policy_value``), plus how well it predicts staying.

A decision's reward is ``stayed × customer value − total cost of the accepted offer`` (``offers.value``): what
the company kept, net of what it gave. The greedy policy is the desk's ranking (``offers.ranking.first_actions``,
what ``rank_offers`` draws from) with no exploration and no hold-out, choosing among the actions the logging
policy could have chosen on that call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from retention_desk.config import OfferPolicy
from retention_desk.domain.catalog import total_cost
from retention_desk.ml.offer_data import OfferExample
from retention_desk.ml.offer_model import OfferLike, OfferResponseModel
from retention_desk.ml.policy_value import PolicyValue, estimate_policy_value
from retention_desk.offers.ranking import Candidate, Response, first_actions
from retention_desk.offers.value import customer_value

GREEDY = OfferPolicy(explore_share=0.0, holdout_share=0.0)
EPS = 1e-6


@dataclass(frozen=True)
class ScoredDecisions:
    """Model outputs for logged decisions: the greedy choice and expected values, per decision."""

    chosen: list[str | None]
    q_chosen: np.ndarray  # the model's expected reward of its own choice
    q_logged: np.ndarray  # the model's expected reward of the logged action
    p_stay_logged: np.ndarray  # P(stay | logged action)


def decision_values(examples: Sequence[OfferExample], margin_share: float) -> np.ndarray:
    """Customer value (``offers.value.customer_value``) of each logged caller."""
    return np.array(
        [
            customer_value(float(e.features.get("monthly_charge") or 0.0), _tenure(e.features), margin_share)
            for e in examples
        ]
    )


def rewards_of(examples: Sequence[OfferExample], offers: Mapping[str, OfferLike], margin_share: float) -> np.ndarray:
    """stayed × customer value − total cost of the accepted offer, per decision."""
    values = decision_values(examples, margin_share)
    cost = np.array(
        [float(total_cost(offers[e.accepted_code])) if e.accepted_code in offers else 0.0 for e in examples],
        dtype=float,
    )
    return np.array([float(e.stayed) for e in examples]) * values - cost


def score_decisions(
    model: OfferResponseModel,
    examples: Sequence[OfferExample],
    offers: Mapping[str, OfferLike],
    margin_share: float,
    risks: Sequence[float | None] | None = None,
    max_offers: int = GREEDY.max_offers_per_call,
) -> ScoredDecisions:
    """Rank each logged call's choosable offers as the desk's ranking does (greedy, planning calls of up to
    ``max_offers`` offers as the desk does) and note the model's values."""
    greedy = replace(GREEDY, max_offers_per_call=max_offers)
    catalog = list(offers.values())
    index = {o.code: j for j, o in enumerate(catalog)}
    got = model.predict_parts([e.features for e in examples], [e.reason for e in examples], catalog, risks)
    p_none, p_stay, p_accept = got.p_none, got.stay, got.accept
    costs = np.array([float(total_cost(o)) for o in catalog], dtype=float)
    values = decision_values(examples, margin_share)
    chosen: list[str | None] = []
    q_chosen, q_logged, p_logged = [], [], []
    for i, e in enumerate(examples):
        options = [c for c in e.choices if c is not None and c in index]
        candidates = [
            Candidate(
                c,
                float(p_stay[i, index[c]]),
                float(p_accept[i, index[c]]),
                float(costs[index[c]]),
                responses=tuple(Response(*r) for r in got.responses(i, index[c])),
            )
            for c in options
        ]
        actions = first_actions(
            candidates=candidates, p_stay_none=float(p_none[i]), customer_value=float(values[i]), policy=greedy
        )
        # Without exploration or hold-out, the ranking's decision is the one action it takes with probability 1.
        decision = max(actions, key=lambda action: actions[action][0])
        chosen.append(decision)

        def q(code: str | None, i: int = i, actions: dict[str | None, tuple[float, float]] = actions) -> float:
            """The call's expected reward after a first action, the rest of the call planned as the desk would."""
            return float(p_none[i]) * values[i] + (actions[code][1] if code in actions else 0.0)

        q_chosen.append(q(decision))
        q_logged.append(q(e.action))
        p_logged.append(float(p_none[i]) if e.action not in index else float(p_stay[i, index[e.action]]))
    return ScoredDecisions(chosen, np.array(q_chosen), np.array(q_logged), np.array(p_logged))


def greedy_value(
    model: OfferResponseModel,
    examples: Sequence[OfferExample],
    offers: Mapping[str, OfferLike],
    margin_share: float,
    risks: Sequence[float | None] | None = None,
    max_offers: int = GREEDY.max_offers_per_call,
) -> tuple[PolicyValue, ScoredDecisions]:
    """Off-policy value (per call) of ranking with ``model`` greedily, on these logged decisions."""
    scored = score_decisions(model, examples, offers, margin_share, risks, max_offers)
    target = np.array([1.0 if c == e.action else 0.0 for c, e in zip(scored.chosen, examples, strict=True)])
    value = estimate_policy_value(
        rewards_of(examples, offers, margin_share),
        [e.propensity for e in examples],
        target,
        model_values=(scored.q_chosen, scored.q_logged),
    )
    return value, scored


def baseline_values(
    examples: Sequence[OfferExample], offers: Mapping[str, OfferLike], margin_share: float
) -> dict[str, PolicyValue]:
    """Off-policy values of two simple rules: never offer, and a uniformly random choosable action."""
    rewards = rewards_of(examples, offers, margin_share)
    logged = [e.propensity for e in examples]
    never = [1.0 if e.action is None else 0.0 for e in examples]
    uniform = [1.0 / max(1, len(e.choices)) for e in examples]
    return {
        "no_offer": estimate_policy_value(rewards, logged, never),
        "uniform_random": estimate_policy_value(rewards, logged, uniform),
    }


def stay_log_loss(p_stay_logged: np.ndarray, examples: Sequence[OfferExample]) -> float:
    """Log loss of P(stay | logged action) against whether the caller stayed."""
    y = np.array([float(e.stayed) for e in examples])
    p = np.clip(p_stay_logged, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _tenure(features: Mapping[str, Any]) -> float | None:
    value = features.get("tenure_months")
    return None if value is None or isinstance(value, str) else float(value)
