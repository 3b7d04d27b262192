"""Off-policy value of a decision policy from logged decisions: IPS, self-normalised IPS and doubly robust.

For logged decision i with reward r_i, logged propensity μ_i = P(logging policy chose the logged action) and
target propensity π_i = P(target policy chooses that same action), the importance weight is w_i = π_i / μ_i and

    IPS   = mean(w r)                         unbiased when μ > 0 wherever π > 0
    SNIPS = Σ w r / Σ w                       a little biased, far lower variance; the nightly job's criterion
    DR    = mean(q̂_π + w (r − q̂_logged))     q̂_π = the model's value of the target policy's action(s),
                                              q̂_logged = its value of the logged action; unbiased if either the
                                              propensities or the model are right
    DR, self-normalised = mean(q̂_π) + Σ w (r − q̂_logged) / Σ w: the model's error measured on the decisions
                                              the target policy would repeat, applied to all of them (reported
                                              next to DR, for comparison)

SWITCH-DR (``switch_weight`` = τ; Wang, Agarwal & Dudík 2017) keeps the correction only of decisions with w ≤ τ:
where the target policy takes an action the logging policy almost never took (an explored offer, a hold-out), the
model's value stands alone. A handful of such decisions, each weighted 35-235, otherwise move a week's estimate by
10-15% for as long as they are in the window; dropping them costs a little bias where the model is wrong about those
rare actions (measured in experiments/NOTEBOOK.md).

The confidence interval (95%) is the CLT interval of the preferred estimate — DR when model values are given,
else SNIPS — from its influence terms: for SNIPS, w (r − SNIPS) / mean(w); for DR, its per-decision terms.
``effective_n`` = (Σ w)² / Σ w² is how many decisions the estimate really rests on. ``paired_ratio`` gives the
same kind of interval to the ratio of two policies' totals over the same callers. Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class PolicyValue:
    """Per-decision mean value of the target policy, by estimator, with a 95% interval on the preferred one."""

    ips: float
    snips: float
    dr: float | None
    n: int
    effective_n: float
    ci_low: float
    ci_high: float
    dr_self_normalised: float | None = None
    switched: int = 0  # decisions whose weight exceeded the switch weight: valued by the model alone

    @property
    def estimate(self) -> float:
        """The preferred estimate: DR when there are model values, else SNIPS."""
        return self.dr if self.dr is not None else self.snips

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if v is None else round(float(v), 6)) for k, v in asdict(self).items()}


def estimate_policy_value(
    rewards: Sequence[float] | np.ndarray,
    logged_propensities: Sequence[float] | np.ndarray,
    target_propensities: Sequence[float] | np.ndarray,
    *,
    model_values: tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray] | None = None,
    switch_weight: float | None = None,
) -> PolicyValue:
    """IPS, SNIPS and (with ``model_values`` = (q̂ of the target policy, q̂ of the logged action)) DR, as SWITCH-DR
    when ``switch_weight`` is given.

    ``target_propensities`` is P(target policy picks the action that was logged), per decision.
    """
    if switch_weight is not None and not switch_weight > 0:
        raise ValueError("the switch weight must be above 0")
    r = np.asarray(rewards, dtype=float)
    mu = np.asarray(logged_propensities, dtype=float)
    pi = np.asarray(target_propensities, dtype=float)
    n = len(r)
    if not (len(mu) == len(pi) == n):
        raise ValueError("rewards, logged and target propensities must have the same length")
    if n == 0:
        raise ValueError("there are no logged decisions to estimate a policy value from")
    if np.any(mu <= 0) or np.any(mu > 1) or np.any(pi < 0) or np.any(pi > 1):
        raise ValueError("propensities must be probabilities, and logged ones above 0")
    w = pi / mu
    ips_terms = w * r
    ips = float(ips_terms.mean())
    w_sum = float(w.sum())
    effective_n = w_sum**2 / float((w**2).sum()) if w_sum > 0 else 0.0
    snips = float(ips_terms.sum() / w_sum) if w_sum > 0 else math.nan
    dr = dr_self_normalised = None
    switched = 0
    if model_values is not None:
        q_target = np.asarray(model_values[0], dtype=float)
        q_logged = np.asarray(model_values[1], dtype=float)
        if not (len(q_target) == len(q_logged) == n):
            raise ValueError("model values must have one entry per logged decision")
        kept = w if switch_weight is None else np.where(w <= switch_weight, w, 0.0)
        switched = int(np.count_nonzero(kept != w))
        dr_terms = q_target + kept * (r - q_logged)
        dr = float(dr_terms.mean())
        if kept.sum() > 0:
            dr_self_normalised = float(q_target.mean() + (kept * (r - q_logged)).sum() / kept.sum())
        half = Z95 * float(dr_terms.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
        centre = dr
    else:
        if w_sum > 0 and n > 1:
            influence = w * (r - snips) / w.mean()
            half = Z95 * float(influence.std(ddof=1)) / math.sqrt(n)
        else:
            half = math.inf
        centre = snips
    return PolicyValue(ips, snips, dr, n, effective_n, centre - half, centre + half, dr_self_normalised, switched)


def snips_difference(
    rewards: Sequence[float] | np.ndarray,
    logged_propensities: Sequence[float] | np.ndarray,
    target_a: Sequence[float] | np.ndarray,
    target_b: Sequence[float] | np.ndarray,
) -> tuple[float, float, float]:
    """SNIPS value of policy a minus policy b on the same decisions, with its 95% interval (low, high).

    Paired: both estimates rest on the same callers, so the interval comes from the difference of their influence
    terms, much narrower than two separate intervals when the policies mostly agree.
    """
    r = np.asarray(rewards, dtype=float)
    mu = np.asarray(logged_propensities, dtype=float)
    terms = []
    values = []
    for target in (target_a, target_b):
        w = np.asarray(target, dtype=float) / mu
        if w.sum() <= 0:
            return math.nan, -math.inf, math.inf
        value = float((w * r).sum() / w.sum())
        values.append(value)
        terms.append(w * (r - value) / w.mean())
    difference = values[0] - values[1]
    n = len(r)
    half = Z95 * float((terms[0] - terms[1]).std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return difference, difference - half, difference + half


def paired_ratio(
    numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] | np.ndarray
) -> tuple[float, float, float]:
    """Σ numerator / Σ denominator over the same calls, with its 95% interval (ratio, low, high).

    The simulator's "ours against the oracle" is such a ratio over one week's callers, each met by both policies;
    the interval (delta method: influence terms a − R b over mean b) says how much of it is the luck of which
    callers rang. NaN with an unbounded interval when the denominator's total is not above 0.
    """
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if len(a) != len(b):
        raise ValueError("numerator and denominator must have one entry per call")
    n = len(a)
    if n == 0 or b.sum() <= 0:
        return math.nan, -math.inf, math.inf
    ratio = float(a.sum() / b.sum())
    influence = (a - ratio * b) / b.mean()
    half = Z95 * float(influence.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return ratio, ratio - half, ratio + half
