"""The ground truth of the synthetic world: who leaves, why, and which offer keeps whom.

Nothing outside ``retention_desk.synth`` may import this module: the desk, the models and the nightly job must
learn these effects from stored data, never read them. The functions are pure and work on plain numpy arrays
(one element per caller), so the generator can score 25,000 historical callers at once and a simulator can
score a single caller (pass arrays of length one, or use the scalar helpers at the bottom).

Caller features (a mapping of equal-length arrays), all "as of the call":
``contract_type`` (str), ``tenure_months``, ``price_rise_pct`` (size of the list-price rise the caller's bills
showed, in percent, 0 if none), ``days_since_rise``, ``outages_90d``, ``outage_hours_90d``, ``tickets_30d``,
``tickets_90d`` (faults, billing, complaints), ``competitor_pressure`` (0..1, fibre roll-out in the region),
``late_bills_12m``, ``segment`` (str), ``tv_hours_per_week``, ``data_gb_per_month``, ``has_tv`` (0/1), and
optionally ``latent`` (unobserved taste, a standard normal; 0 when absent). The effect sizes are documented in
docs/synthetic-world.md; change both together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from retention_desk.domain.vocabulary import OFFER_KINDS

REASONS = (
    "price",
    "service_quality",
    "moving",
    "competitor_offer",
    "not_using",
    "financial_hardship",
    "content",
    "customer_service",
    "other",
)
BASE_LOGIT = -7.0
CONTRACT_EFFECT = {"month_to_month": 2.0, "one_year": 0.8, "two_year": 0.0}
SEGMENT_EFFECT = {"student": 0.8, "young_adult": 0.5, "single": 0.0, "family": -0.4, "senior": -0.8}
LATENT_SCALE = 0.3
EFFECT_SCALE = 1.8  # every observable effect below is multiplied by this
CALL_SLOPE = 0.7  # how strongly the hazard drives who calls

# Share of callers with each reason who cannot be saved by anything (moving abroad, deceased, already signed).
UNSAVABLE_SHARE = {"moving": 0.30, "competitor_offer": 0.25, "other": 0.20}
UNSAVABLE_NOTES = {
    "moving": "Moving abroad.",
    "competitor_offer": "Has already signed with another provider.",
    "other": "Subscriber deceased; the estate is cancelling.",
}

# P(an offer of this kind keeps a caller who would otherwise leave), by cancel reason; modified below.
# fmt: off
_LIFT = {
    #                    disc  credit prem  upgr  down  pause loyal
    "price":            (0.45, 0.30, 0.05, 0.06, 0.40, 0.03, 0.30),
    "service_quality":  (0.12, 0.30, 0.04, 0.22, 0.03, 0.03, 0.10),
    "moving":           (0.04, 0.04, 0.02, 0.03, 0.05, 0.45, 0.05),
    "competitor_offer": (0.35, 0.18, 0.05, 0.22, 0.10, 0.02, 0.25),
    "not_using":        (0.08, 0.05, 0.04, 0.03, 0.45, 0.25, 0.05),
    "financial_hardship": (0.30, 0.30, 0.02, 0.02, 0.40, 0.35, 0.10),
    "content":          (0.10, 0.08, 0.45, 0.30, 0.03, 0.03, 0.08),
    "customer_service": (0.18, 0.30, 0.06, 0.06, 0.05, 0.03, 0.15),
    "other":            (0.08, 0.08, 0.05, 0.05, 0.05, 0.05, 0.05),
}
# fmt: on
LIFT_SCALE = 0.6  # the table above is the effect in a generous market; this tones it down
LIFT_TABLE = LIFT_SCALE * np.array([_LIFT[r] for r in REASONS])
PRICE_SENSITIVE = ("student", "young_adult")
_PRICE_KINDS = ("percent_discount", "bill_credit", "downgrade")

# P(a save lasts 90 days), by the offer kind that saved the call; None = stayed without an offer.
DURABLE = {
    None: 0.94,
    "percent_discount": 0.90,
    "bill_credit": 0.80,
    "premium_channel": 0.84,
    "upgrade": 0.90,
    "downgrade": 0.92,
    "pause": 0.75,
    "loyalty_bonus": 0.96,
}


def _get(features: Mapping[str, Any], name: str, n: int, default: float = 0.0) -> np.ndarray:
    value = features.get(name)
    if value is None:
        return np.full(n, default, dtype=float)
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


def _size(features: Mapping[str, Any]) -> int:
    return len(np.atleast_1d(np.asarray(features["contract_type"])))


def _lookup(values: Any, table: Mapping[str, float], n: int) -> np.ndarray:
    codes = np.broadcast_to(np.atleast_1d(np.asarray(values, dtype=object)), (n,))
    return np.array([table.get(c, 0.0) for c in codes], dtype=float)


def churn_logit(features: Mapping[str, Any]) -> np.ndarray:
    """The log-odds that a caller leaves if the desk offers nothing (see module docstring for the features)."""
    n = _size(features)
    logit = np.zeros(n)
    logit += _lookup(features["contract_type"], CONTRACT_EFFECT, n)
    logit += _lookup(features.get("segment", ["single"] * n), SEGMENT_EFFECT, n)
    rise = _get(features, "price_rise_pct", n)
    since = _get(features, "days_since_rise", n, default=999)
    # A rise hurts most in the months after it shows on the bill: 18% shortly after the rise adds ~1.4.
    logit += 0.15 * rise * np.clip(1.25 - since / 240, 0.25, 1.0)
    logit += 0.8 * np.minimum(_get(features, "outages_90d", n), 3)
    logit += 0.02 * np.minimum(_get(features, "outage_hours_90d", n), 48)
    logit += 0.7 * np.minimum(_get(features, "tickets_30d", n), 3)
    logit += 0.25 * np.minimum(_get(features, "tickets_90d", n), 5)
    tenure = _get(features, "tenure_months", n, default=36)
    logit += np.select([tenure < 6, tenure < 12, tenure < 24, tenure > 96], [1.6, 1.1, 0.6, -1.0], 0.0)
    logit += 3.0 * (_get(features, "competitor_pressure", n) - 0.5)
    logit += 0.8 * np.minimum(_get(features, "late_bills_12m", n), 4)
    low_tv = _get(features, "has_tv", n) * (_get(features, "tv_hours_per_week", n, 10) < 3)
    low_data = _get(features, "data_gb_per_month", n, 50) < 5
    logit += 1.0 * low_tv + 0.6 * low_data
    return BASE_LOGIT + EFFECT_SCALE * logit + LATENT_SCALE * _get(features, "latent", n)


def churn_probability(features: Mapping[str, Any]) -> np.ndarray:
    """P(the caller leaves | they called to cancel and got no offer), one value per caller."""
    return 1.0 / (1.0 + np.exp(-churn_logit(features)))


def call_probability(churn_logit_values: np.ndarray, share: float) -> np.ndarray:
    """P(an account calls the desk this year), rising with its hazard and averaging ``share``."""
    lo, hi = -20.0, 20.0
    for _ in range(50):  # bisection on the intercept so the mean hits the share
        mid = (lo + hi) / 2
        mean = np.mean(1.0 / (1.0 + np.exp(-(mid + CALL_SLOPE * churn_logit_values))))
        lo, hi = (mid, hi) if mean < share else (lo, mid)
    return 1.0 / (1.0 + np.exp(-((lo + hi) / 2 + CALL_SLOPE * churn_logit_values)))


def reason_weights(features: Mapping[str, Any]) -> np.ndarray:
    """Unnormalised weights (callers × REASONS) of what a caller will say; drivers make their reason likelier."""
    n = _size(features)
    rise = _get(features, "price_rise_pct", n)
    outages = _get(features, "outages_90d", n) + 0.5 * _get(features, "tickets_30d", n)
    tv = _get(features, "tv_hours_per_week", n, 10)
    has_tv = _get(features, "has_tv", n)
    columns = [
        0.8 + 0.15 * rise,  # price
        0.3 + 1.2 * outages,  # service_quality
        np.full(n, 0.55),  # moving
        0.2 + 1.4 * _get(features, "competitor_pressure", n),  # competitor_offer
        0.2 + 0.8 * (has_tv * (tv < 3)) + 0.4 * (_get(features, "data_gb_per_month", n, 50) < 5),  # not_using
        0.1 + 0.6 * np.minimum(_get(features, "late_bills_12m", n), 4),  # financial_hardship
        0.1 + has_tv * np.clip(tv / 20, 0, 1.2),  # content
        0.15 + 0.5 * np.minimum(_get(features, "tickets_90d", n), 4),  # customer_service
        np.full(n, 0.25),  # other
    ]
    return np.column_stack(columns)


def draw_cancel_reason(features: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """One reason code per caller, drawn from ``reason_weights``."""
    weights = reason_weights(features)
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    picks = (rng.random(len(weights))[:, None] > cumulative).sum(axis=1)
    return np.asarray(REASONS, dtype=object)[np.minimum(picks, len(REASONS) - 1)]


def draw_unsavable(reasons: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which callers nothing can keep (moving abroad, deceased, already signed elsewhere)."""
    share = np.array([UNSAVABLE_SHARE.get(r, 0.0) for r in reasons])
    return rng.random(len(reasons)) < share


def offer_lift(
    offer: Mapping[str, Any], reasons: np.ndarray, features: Mapping[str, Any], unsavable: np.ndarray | None = None
) -> np.ndarray:
    """P(this offer keeps a caller who would otherwise leave), per caller; 0 for the unsavable."""
    kind = offer["kind"]
    params = offer.get("params") or {}
    n = len(reasons)
    reason_idx = np.array([REASONS.index(r) if r in REASONS else REASONS.index("other") for r in reasons])
    lift = LIFT_TABLE[reason_idx, OFFER_KINDS.index(kind)].astype(float)
    segments = np.broadcast_to(np.atleast_1d(np.asarray(features.get("segment", "single"), dtype=object)), (n,))
    tv = _get(features, "tv_hours_per_week", n, 10)
    if kind == "percent_discount":
        lift *= (float(params.get("percent", 20)) / 20) ** 0.6
    elif kind == "bill_credit":
        lift *= (float(params.get("amount", 500)) / 500) ** 0.4
    elif kind == "premium_channel":
        lift *= np.clip(tv / 12, 0.3, 1.8)
        if params.get("channel") == "barn":
            lift *= np.where(segments == "family", 1.8, 0.3)
    elif kind == "upgrade":
        if params.get("service") == "broadband":
            lift *= np.where(reasons == "service_quality", 1.5, 1.0)
        else:
            lift *= np.clip(tv / 12, 0.4, 1.6)
        lift *= np.where(segments == "senior", 0.6, 1.0)
    if kind in _PRICE_KINDS:
        lift *= np.where(np.isin(segments, PRICE_SENSITIVE), 1.25, 1.0)
    lift = np.clip(lift, 0.0, 0.9)
    if unsavable is not None:
        lift = np.where(unsavable, 0.0, lift)
    return lift


def stay_probabilities(
    offer: Mapping[str, Any] | None,
    reasons: np.ndarray,
    features: Mapping[str, Any],
    unsavable: np.ndarray | None = None,
) -> np.ndarray:
    """P(stay | offer) = P(stay anyway) + P(would leave) × lift; ``offer=None`` means no offer."""
    stay_anyway = 1.0 - churn_probability(features)
    if unsavable is not None:
        stay_anyway = np.where(unsavable, 0.0, stay_anyway)
    if offer is None:
        return stay_anyway
    return stay_anyway + (1.0 - stay_anyway) * offer_lift(offer, reasons, features, unsavable)


def acceptance_probability(lift: np.ndarray, stays_anyway: np.ndarray) -> np.ndarray:
    """P(the caller says yes when offered): a leaver accepts what keeps them; a stayer often takes a gift."""
    return np.where(stays_anyway, 0.25 + 0.5 * lift, lift)


def durable_probability(
    offer_kind: np.ndarray, reasons: np.ndarray, contract_type: np.ndarray, churn_p: np.ndarray | None = None
) -> np.ndarray:
    """P(a saved caller is still a subscriber 90 days later); ``offer_kind`` None = saved without an offer.

    Relapse is likelier for callers who were likelier to leave in the first place (``churn_p``, default 0.5).
    """
    relapse = 1.0 - np.array([DURABLE.get(k, 0.8) for k in offer_kind])
    relapse *= np.where(np.asarray(contract_type) == "month_to_month", 1.3, 1.0)
    relapse *= np.where(np.asarray(reasons) == "competitor_offer", 1.3, 1.0)
    p = np.full(len(relapse), 0.5) if churn_p is None else np.asarray(churn_p, dtype=float)
    relapse *= np.clip(2.0 * p, 0.1, 1.8)
    return np.clip(1.0 - relapse, 0.0, 1.0)


# --- one caller at a time (the simulator's view) --------------------------------------------------------------


def _one(account: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.atleast_1d(np.asarray(v, dtype=object if isinstance(v, str) else float)) for k, v in account.items()}


def stay_probability(
    account: Mapping[str, Any], reason: str, offer: Mapping[str, Any] | None, unsavable: bool = False
) -> float:
    """P(this one caller stays | the offer, or no offer when ``offer`` is None)."""
    features = _one(account)
    p = stay_probabilities(offer, np.array([reason], dtype=object), features, np.array([unsavable]))
    return float(p[0])


def durable_save_probability(account: Mapping[str, Any], reason: str, offer_kind: str | None) -> float:
    """P(this one saved caller is still here 90 days later)."""
    churn_p = churn_probability(_one(account))
    p = durable_probability(
        np.array([offer_kind], dtype=object), np.array([reason]), np.array([account["contract_type"]]), churn_p
    )
    return float(p[0])
