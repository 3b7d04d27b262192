"""The simulator's nightly off-policy estimate of the serving policy's mean reward, set against what it then
realises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from retention_desk.config import Settings
from retention_desk.domain.catalog import OfferSpec
from retention_desk.ml.features import Feature
from retention_desk.ml.policy_value import estimate_policy_value
from retention_desk.offers.ranking import first_actions
from retention_desk.services.calls.deciding import candidates_for
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.database import session_scope
from retention_desk.services.models.offer_predictions import predict_offers

# The nightly off-policy estimate rests on the last week's calls, not every call of the run: the callers drift
# (accounts leave, faults come and go), and the estimate is set against the next day's callers. On three 30-day
# runs the estimate over every call was 4.5%, 13.5% and 5.6% off the realised value; over the last week's, 0.4%,
# 3.5% and 1.1% (experiments/NOTEBOOK.md).
OPE_WINDOW_DAYS = 7


# A logged call the new policy would repeat has weight (its P / the logged propensity) about 1; one whose explored
# offer or hold-out the new policy now takes has 35-235. Above this weight the estimate takes the offer model's value
# of the call instead of the logged reward × weight (SWITCH-DR, ml/policy_value.py): on nine 30-day runs the worst
# week of estimates was 6-17% off the realised reward with plain DR, 5-10% switched; thresholds 5-20 gave identical
# estimates on seven of them (experiments/NOTEBOOK.md).
OPE_SWITCH_WEIGHT = 10.0


@dataclass
class LoggedCall:
    """One of our calls as the off-policy estimate needs it."""

    features: dict[str, Feature]
    reason: str | None
    risk: float | None
    permitted: list[tuple[OfferSpec, bool]]
    value: float
    action: str | None
    propensity: float
    reward: float


class Estimate(NamedTuple):
    value: float
    low: float
    high: float
    self_normalised: float | None
    doubly_robust: float | None


def estimate_serving_policy(settings: Settings, logged: Sequence[LoggedCall]) -> Estimate | None:
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
    return Estimate(value.dr, value.ci_low, value.ci_high, value.dr_self_normalised, plain.dr)
