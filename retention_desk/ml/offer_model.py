"""The offer-response model: P(the caller stays | action, account, cancel reason) and P(accept | offer presented).

The stay part is an L2-regularised logistic regression over the same account features as the churn model, encoded
alike (``encoding.logistic_encoder``, with a log twin of each count-like number), the cancel reason, and
action terms; the acceptance part uses the same action terms.
By default (``JOINT``, ml/offer_joint.py) both are refitted together on each call's answers and fate: callers who
would stay anyway take gifts, would-be leavers take what keeps them, and saves last to the horizon by offer kind;
without the calls' answers it falls back to the mixture of ``_fit_mixture`` (answers alone):

    logit = base(account, reason) + Σ action terms (offered, kind, offer, kind × reason by default; offer × reason,
                                                    kind × segment, kind × usage extras, kind × base risk optional)

The action terms are nested (offer inside kind), so the penalty shrinks an offer with few decisions toward its
kind, and an offer code the model never saw is predicted at kind level; a kind it never saw falls back to the
catalog prior. Being linear in these terms, a screen of n callers × m offers costs one encoding of the n rows and
m table look-ups: no per-pair pipeline call.

P(stay) is fitted on logged decisions (the call's rank-1 action) weighted by 1 / propensity, clipped at
``MIN_PROPENSITY`` and normalised to mean 1. The ranking compares every permitted action on the same caller;
the logging policy, though, puts its favourites first on the callers it likes them for, so an unweighted fit
learns each action's effect on the callers it happened to get. Weighting by the inverse propensity makes the
sample stand for "every action on every caller" (the fit's errors are spread over the comparisons the ranking
makes); clipping bounds the variance a few near-zero propensities would bring. docs/offer-model.md compares
weighted and unweighted fits on the demo world.

Protected attributes never feed the model: the rows come from ``build_features``, which drops them, and any
column that looks protected is dropped again here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import optimize, sparse
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from retention_desk.ml.encoding import logistic_encoder, skewed_counts
from retention_desk.ml.features import EXTRA_PREFIX, Feature, feature_columns, is_protected, rows_to_frame
from retention_desk.ml.offer_joint import CallAnswers, durability, fit_joint

__all__ = [
    "CallAnswers",
    "DEFAULT_STAY_NONE",
    "MIN_DECISIONS",
    "OfferPredictions",
    "OfferResponseModel",
    "PRIOR_KEEP_SHARE",
    "PredictedArrays",
    "fit_offer_model",
    "prior_offer_model",
    "stay_weights",
]

# Fewer labelled decisions than this and the nightly job keeps the catalog priors (docs/offer-model.md: below
# about a thousand decisions the learned greedy policy did not beat the prior one on the demo world's hold-out).
MIN_DECISIONS = 1000
# Share of an acceptance that turns a leaver into a stayer, for the cold-start prior: a caller who accepts was
# about half the time going to stay anyway (the desk's early logs and the demo world agree on roughly that).
PRIOR_KEEP_SHARE = 0.5
# P(stay | no offer) when neither a model nor the churn risk says more: the demo world's no-offer save rate.
DEFAULT_STAY_NONE = 0.35
MIN_PROPENSITY = 0.01
CONVERSION = "conversion"
MIXTURE = "mixture"
JOINT = "joint"
CONVERSION_PENALTY = 2.0
STAY_C = 0.3
ACCEPT_C = 0.3
MIXTURE_C = 3.0  # the mixture's two parts share the data; benchmarks/offer_model_truth.py chose 3 over 1 and 10
# An offer's gift rate (loyal callers taking it) is shrunk hard toward its kind's: on the demo world a free hand per
# offer chose worse (85% of the oracle's value against 87%), yet plenty of data still separates two offers of a kind.
GIFT_OFFER_C = 0.03
REASON = "_reason"
NO_REASON = "none"
MISSING = "missing"


class OfferLike(Protocol):
    """What the model reads from a catalog entry (``services.catalog.OfferSpec`` fits)."""

    code: str
    kind: str
    prior_acceptance: float


class LoggedDecision(Protocol):
    """One labelled call as the model learns from it (``ml.offer_data.OfferExample`` fits)."""

    @property
    def features(self) -> Mapping[str, Feature]: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def propensity(self) -> float: ...
    @property
    def stayed(self) -> bool: ...


@dataclass(frozen=True)
class OfferPredictions:
    """One caller: P(stay | no offer), and P(stay | offer), P(accept | offer) by offer code.

    ``responses`` (the joint estimator only) splits each offer's prediction by kind of caller, as (share of callers
    of that kind, P(yes | kind), P(still here at the horizon | yes, kind) − P(the same | no offer, kind)) for the one
    who would stay anyway, then the one who would leave: what planning a second offer after a "no" needs."""

    p_stay_none: float
    p_stay: dict[str, float] = field(default_factory=dict)
    p_accept: dict[str, float] = field(default_factory=dict)
    responses: dict[str, tuple[tuple[float, float, float], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictedArrays:
    """Predictions for n callers × m offers; ``stayer`` / ``leaver`` (joint estimator only) are (P(yes), kept)
    arrays of shape n × m for each kind of caller, ``share`` the n shares of would-be stayers."""

    p_none: np.ndarray
    stay: np.ndarray
    accept: np.ndarray
    share: np.ndarray | None = None
    stayer: tuple[np.ndarray, np.ndarray] | None = None
    leaver: tuple[np.ndarray, np.ndarray] | None = None

    def responses(self, i: int, j: int) -> tuple[tuple[float, float, float], ...]:
        """Caller i's answer to offer j by kind of caller (see ``OfferPredictions``); () without the split."""
        if self.share is None or self.stayer is None or self.leaver is None:
            return ()
        s = float(self.share[i])
        return (
            (s, float(self.stayer[0][i, j]), float(self.stayer[1][i, j])),
            (1.0 - s, float(self.leaver[0][i, j]), float(self.leaver[1][i, j])),
        )


def stay_weights(propensities: Sequence[float] | np.ndarray, min_propensity: float = MIN_PROPENSITY) -> np.ndarray:
    """1 / propensity, clipped at ``min_propensity`` and normalised to mean 1 (why: see the module docstring)."""
    p = np.clip(np.asarray(propensities, dtype=float), min_propensity, 1.0)
    w = 1.0 / p
    return w / w.mean() if len(w) else w


def converted_stay(p_none: np.ndarray, p_accept: np.ndarray, kappa: float) -> np.ndarray:
    """P(stay | offer) when an offer keeps a caller only through their yes: κ × P(accept) of the would-be leavers."""
    return p_none + (1.0 - p_none) * np.minimum(1.0, kappa * p_accept)


def _prior_stay(p_none: np.ndarray, prior_acceptance: float) -> np.ndarray:
    return p_none + (1.0 - p_none) * prior_acceptance * PRIOR_KEEP_SHARE


def _stay_none_prior(n: int, risks: Sequence[float | None] | None) -> np.ndarray:
    if risks is None:
        return np.full(n, DEFAULT_STAY_NONE)
    return np.array([DEFAULT_STAY_NONE if r is None or math.isnan(r) else 1.0 - float(r) for r in risks])


@dataclass
class _Linear:
    """One fitted logistic regression split into a per-row base part and looked-up action terms."""

    base_coef: np.ndarray
    intercept: float
    terms: dict[str, float]
    risk_coef: np.ndarray | None = None  # base part of a first fit without action × risk terms

    def base(self, x: np.ndarray) -> np.ndarray:
        return x @ self.base_coef + self.intercept


@dataclass
class OfferResponseModel:
    """Fitted response model; ``predict`` is the only thing serving calls. ``None`` parts fall back to priors."""

    encoder: Pipeline | ColumnTransformer | None
    numeric: list[str]
    categorical: list[str]
    usage: list[str]  # numeric extras whose effect may differ by kind (e.g. TV hours), standardised
    usage_mean: np.ndarray
    usage_scale: np.ndarray
    stay: _Linear | None
    accept: _Linear | None
    risk_mean: float = 0.0
    risk_scale: float = 1.0
    # Acceptance × the caller's own stay logit (family "risk" in the acceptance terms): would-be stayers take
    # gifts, would-be leavers take what keeps them, so how an offer's acceptance moves with risk differs by kind.
    accept_risk: tuple[float, float] | None = None  # (mean, scale) of the stay logit on the presentations
    seen_codes: frozenset[str] = frozenset()
    seen_kinds: frozenset[str] = frozenset()
    accept_codes: frozenset[str] = frozenset()
    accept_kinds: frozenset[str] = frozenset()
    info: dict[str, Any] = field(default_factory=dict)
    # The conversion estimator: P(stay | offer) = P(stay | none) + (1 − P(stay | none)) × min(1, κ[kind] ×
    # P(accept | offer)); None = the direct estimator (P(stay | offer) from the stay regression's action terms).
    conversion: dict[str, float] | None = None
    # The mixture estimator (``MIXTURE``): P(accept | offer) = s × gift(offer) + (1 − s) × leaver(offer), s = P(stay |
    # none); P(stay | offer) = s + (1 − s) × min(1, κ[kind] × leaver(offer)). ``leaver`` holds the action terms of
    # P(accept | the caller would otherwise leave); ``gift`` those of P(accept | would stay anyway), by kind and offer.
    leaver: dict[str, float] | None = None
    gift: dict[str, float] | None = None
    # The joint estimator (``JOINT``, ml/offer_joint.py): ``stay`` is then the share who would stay anyway at the
    # call, and ``durable`` the logits of how many saves last to the horizon, by kind; see ``_predict_joint``.
    durable: dict[str, float] | None = None

    @property
    def is_prior(self) -> bool:
        return self.stay is None

    def predict(
        self,
        rows: Sequence[Mapping[str, Feature]],
        reasons: Sequence[str | None],
        offers: Sequence[OfferLike],
        risks: Sequence[float | None] | None = None,
    ) -> list[OfferPredictions]:
        """Predictions for every caller × every offer, in one encoding of the rows."""
        n = len(rows)
        if len(reasons) != n or (risks is not None and len(risks) != n):
            raise ValueError("rows, reasons and risks must have the same length")
        if n == 0:
            return []
        got = self.predict_parts(rows, reasons, offers, risks)
        codes = [o.code for o in offers]
        return [
            OfferPredictions(
                float(got.p_none[i]),
                {c: float(got.stay[i, j]) for j, c in enumerate(codes)},
                {c: float(got.accept[i, j]) for j, c in enumerate(codes)},
                {c: r for j, c in enumerate(codes) if (r := got.responses(i, j))},
            )
            for i in range(n)
        ]

    def predict_arrays(
        self,
        rows: Sequence[Mapping[str, Feature]],
        reasons: Sequence[str | None],
        offers: Sequence[OfferLike],
        risks: Sequence[float | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P(stay | none) of shape n, P(stay | offer) and P(accept | offer) of shape n × m)."""
        got = self.predict_parts(rows, reasons, offers, risks)
        return got.p_none, got.stay, got.accept

    def predict_parts(
        self,
        rows: Sequence[Mapping[str, Feature]],
        reasons: Sequence[str | None],
        offers: Sequence[OfferLike],
        risks: Sequence[float | None] | None = None,
    ) -> PredictedArrays:
        """``predict_arrays`` with, for the joint estimator, each prediction split by kind of caller."""
        n, m = len(rows), len(offers)
        priors = np.array([float(o.prior_acceptance) for o in offers])
        if self.stay is None or self.encoder is None:
            p_none = _stay_none_prior(n, risks)
            stay = _prior_stay(p_none[:, None], priors[None, :])
            return PredictedArrays(p_none, stay, np.broadcast_to(priors, (n, m)).copy())
        x = self._encode(rows, reasons)
        reason_arr = np.array([r or NO_REASON for r in reasons], dtype=object)
        segments = np.array([str(row.get("segment") or MISSING) for row in rows], dtype=object)
        usage = self._usage(rows)
        base = self.stay.base(x)
        if self.durable is not None:
            return self._predict_joint(base, offers, reason_arr, segments, usage)
        risk = self._risk(x)
        p_none = _sigmoid(base)
        stay = np.empty((n, m))
        accept = np.empty((n, m))
        accept_base = self.accept.base(x) if self.accept is not None else None
        accept_risk = self._accept_risk(x)
        for j, offer in enumerate(offers):
            if self.leaver is not None and self.gift is not None and offer.kind in self.accept_kinds:
                leaver = _sigmoid(_action_logit(self.leaver, offer, reason_arr, segments, usage, self.usage, None))
                gift = _sigmoid(self._gift_logit(offer))
                accept[:, j] = p_none * gift + (1.0 - p_none) * leaver
                kappa = (self.conversion or {}).get(offer.kind, 1.0)
                stay[:, j] = converted_stay(p_none, leaver, kappa)
                continue
            if accept_base is not None and offer.kind in self.accept_kinds:
                delta = _action_logit(self.accept.terms, offer, reason_arr, segments, usage, self.usage, accept_risk)
                accept[:, j] = _sigmoid(accept_base + delta)
            else:
                accept[:, j] = float(offer.prior_acceptance)
            if self.conversion is not None and offer.kind in self.conversion:
                stay[:, j] = converted_stay(p_none, accept[:, j], self.conversion[offer.kind])
            elif self.conversion is None and offer.kind in self.seen_kinds:
                delta = _action_logit(self.stay.terms, offer, reason_arr, segments, usage, self.usage, risk)
                stay[:, j] = _sigmoid(base + delta)
            else:
                stay[:, j] = _prior_stay(p_none, float(offer.prior_acceptance))
        return PredictedArrays(p_none, stay, accept)

    def _predict_joint(
        self,
        base: np.ndarray,
        offers: Sequence[OfferLike],
        reasons: np.ndarray,
        segments: np.ndarray,
        usage: np.ndarray,
    ) -> PredictedArrays:
        """P(stay | none) = s × d(none); P(stay | offer) = s × (g × d(kind) + (1 − g) × d(none)) + (1 − s) × l ×
        d(kind); P(accept) = s × g + (1 − s) × l, with s the share who would stay anyway, g the gift rate, l the
        leaver's yes and d the durability (ml/offer_joint.py). A stayer's yes is worth d(kind) − d(none), a
        leaver's d(kind)."""
        assert self.durable is not None and self.leaver is not None and self.gift is not None
        s = _sigmoid(base)
        d_none = durability(self.durable, None, base)
        p_none = s * d_none
        shape = (len(base), len(offers))
        stay, accept = np.empty(shape), np.empty(shape)
        gifts, stayer_kept, leavers, leaver_kept = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape)
        for j, offer in enumerate(offers):
            if offer.kind not in self.accept_kinds:
                # A kind the logs never showed: the catalog prior, alike for both kinds of caller.
                prior = float(offer.prior_acceptance)
                accept[:, j] = prior
                stay[:, j] = _prior_stay(p_none, prior)
                gifts[:, j] = leavers[:, j] = prior
                stayer_kept[:, j] = leaver_kept[:, j] = (stay[:, j] - p_none) / max(prior, 1e-9)
                continue
            leaver = _sigmoid(_action_logit(self.leaver, offer, reasons, segments, usage, self.usage, None))
            gift = _sigmoid(_action_logit(self.gift, offer, reasons, segments, usage, self.usage, None))
            d = durability(self.durable, offer.kind, base)
            accept[:, j] = s * gift + (1.0 - s) * leaver
            stay[:, j] = s * (gift * d + (1.0 - gift) * d_none) + (1.0 - s) * leaver * d
            gifts[:, j], stayer_kept[:, j], leavers[:, j], leaver_kept[:, j] = gift, d - d_none, leaver, d
        return PredictedArrays(p_none, stay, accept, s, (gifts, stayer_kept), (leavers, leaver_kept))

    def _gift_logit(self, offer: OfferLike) -> float:
        gift = self.gift or {}
        return gift.get("offered", 0.0) + gift.get(f"kind={offer.kind}", 0.0) + gift.get(f"offer={offer.code}", 0.0)

    def _encode(self, rows: Sequence[Mapping[str, Feature]], reasons: Sequence[str | None]) -> np.ndarray:
        frame = rows_to_frame(rows, self.numeric, self.categorical)
        frame[REASON] = [r or NO_REASON for r in reasons]
        with threadpool_limits(limits=1):
            return _dense(self.encoder.transform(frame))

    def _usage(self, rows: Sequence[Mapping[str, Feature]]) -> np.ndarray:
        if not self.usage:
            return np.zeros((len(rows), 0))
        raw = np.array([[_num(row.get(name)) for name in self.usage] for row in rows], dtype=float)
        z = (raw - self.usage_mean) / self.usage_scale
        return np.nan_to_num(z, nan=0.0)

    def _accept_risk(self, x: np.ndarray) -> np.ndarray | None:
        if self.accept_risk is None or self.stay is None:
            return None
        mean, scale = self.accept_risk
        return (self.stay.base(x) - mean) / scale

    def _risk(self, x: np.ndarray) -> np.ndarray | None:
        if self.stay is None or self.stay.risk_coef is None:
            return None
        return (x @ self.stay.risk_coef - self.risk_mean) / self.risk_scale


def prior_offer_model() -> OfferResponseModel:
    """The cold-start model: every prediction from the catalog's prior acceptance (see the formula in docs).

    P(accept) = prior_acceptance; P(stay | offer) = P(stay | none) + (1 − P(stay | none)) × prior_acceptance ×
    ``PRIOR_KEEP_SHARE``; P(stay | none) = 1 − the churn model's risk when given, else ``DEFAULT_STAY_NONE``.
    """
    return OfferResponseModel(None, [], [], [], np.zeros(0), np.ones(0), None, None, info={"kind": "prior"})


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _num(value: Any) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


# --- action terms -------------------------------------------------------------------------------------------


def _term_names(code: str, kind: str, reason: str, segment: str) -> tuple[str, ...]:
    return (
        "offered",
        f"kind={kind}",
        f"offer={code}",
        f"kind={kind}|reason={reason}",
        f"offer={code}|reason={reason}",
        f"kind={kind}|segment={segment}",
    )


def _action_logit(
    terms: Mapping[str, float],
    offer: OfferLike,
    reasons: np.ndarray,
    segments: np.ndarray,
    usage: np.ndarray,
    usage_names: Sequence[str],
    risk: np.ndarray | None,
) -> np.ndarray:
    """The action terms' contribution for one offer, for every row at once."""
    code, kind = offer.code, offer.kind
    out = np.full(len(reasons), terms.get("offered", 0.0) + terms.get(f"kind={kind}", 0.0))
    out += terms.get(f"offer={code}", 0.0)
    out += _lookup(terms, reasons, f"kind={kind}|reason=")
    out += _lookup(terms, reasons, f"offer={code}|reason=")
    out += _lookup(terms, segments, f"kind={kind}|segment=")
    for k, name in enumerate(usage_names):
        out += terms.get(f"kind={kind}*{name}", 0.0) * usage[:, k]
    if risk is not None:
        out += (terms.get("offered*risk", 0.0) + terms.get(f"kind={kind}*risk", 0.0)) * risk
    return out


def _lookup(terms: Mapping[str, float], values: np.ndarray, prefix: str) -> np.ndarray:
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    return np.array([terms.get(prefix + u, 0.0) for u in uniques])[inverse]


ALL_TERMS = frozenset({"kind", "offer", "kind_reason", "offer_reason", "segment", "usage", "risk"})
# Measured on the demo world (docs/offer-model.md): richer terms (offer×reason, segment, usage, risk) fitted the
# log loss no better and chose worse offers on held-out decisions; ~3,000 decisions support kind × reason.
DEFAULT_TERMS = frozenset({"kind", "offer", "kind_reason"})


def _family(name: str) -> str:
    """Which term family a column belongs to (``FitOptions.terms`` switches families off)."""
    if name == "offered" or name == "follow_up":
        return "always"
    if "*risk" in name:
        return "risk"
    if "*" in name:
        return "usage"
    if "|segment=" in name:
        return "segment"
    if "|reason=" in name:
        return "offer_reason" if name.startswith("offer=") else "kind_reason"
    return "offer" if name.startswith("offer=") else "kind"


class _Design:
    """Builds the sparse action-term columns for training, one vocabulary per fitted part."""

    def __init__(self, families: frozenset[str] = ALL_TERMS) -> None:
        self.families = families | {"always"}
        self.index: dict[str, int] = {}
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []

    def add(self, row: int, name: str, value: float = 1.0) -> None:
        if value == 0.0 or _family(name) not in self.families:
            return
        col = self.index.setdefault(name, len(self.index))
        self.rows.append(row)
        self.cols.append(col)
        self.vals.append(value)

    def matrix(self, n: int) -> sparse.csr_matrix:
        return sparse.csr_matrix((self.vals, (self.rows, self.cols)), shape=(n, len(self.index)))

    def add_action(
        self,
        row: int,
        code: str,
        kind: str,
        reason: str,
        segment: str,
        usage_row: np.ndarray,
        usage_names: Sequence[str],
        risk: float | None,
    ) -> None:
        for name in _term_names(code, kind, reason, segment):
            self.add(row, name)
        for k, name in enumerate(usage_names):
            self.add(row, f"kind={kind}*{name}", float(usage_row[k]))
        if risk is not None:
            self.add(row, "offered*risk", risk)
            self.add(row, f"kind={kind}*risk", risk)


# --- fitting ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitOptions:
    """The choices measured in docs/offer-model.md; the defaults are the chosen ones."""

    estimator: str = JOINT  # joint | mixture | conversion | direct (see the module docstring)
    weighted: bool = True
    stay_c: float = STAY_C
    accept_c: float | None = None  # None: MIXTURE_C for the mixture, else ACCEPT_C
    min_propensity: float = MIN_PROPENSITY
    terms: frozenset[str] = DEFAULT_TERMS
    accept_terms: frozenset[str] | None = None  # the acceptance part's terms; None = ``terms`` without risk
    gift_terms: frozenset[str] = frozenset({"kind", "offer"})  # the joint estimator's gift rate


def fit_offer_model(
    *,
    rows: Sequence[Mapping[str, Feature]],
    reasons: Sequence[str | None],
    actions: Sequence[str | None],
    propensities: Sequence[float],
    stayed: Sequence[bool],
    kinds: Mapping[str, str],
    presentations: Sequence[tuple[Mapping[str, Feature], str | None, str, bool, bool]] = (),
    calls: Sequence[CallAnswers] = (),
    options: FitOptions = FitOptions(),
) -> OfferResponseModel:
    """Fit P(stay | action) on decisions and P(accept | presented) on presentations.

    ``kinds`` maps offer codes to their catalog kind; a decision whose offer has no known kind is left out.
    ``presentations`` are (features, reason, offer code, accepted, follow-up) tuples; ``calls`` each call's answers
    and fate, for the joint estimator (without them it falls back to the mixture).
    """
    keep = [i for i, a in enumerate(actions) if a is None or a in kinds]
    rows = [rows[i] for i in keep]
    reasons = [reasons[i] for i in keep]
    actions = [actions[i] for i in keep]
    y = np.array([bool(stayed[i]) for i in keep], dtype=int)
    props = np.array([float(propensities[i]) for i in keep])
    if len(rows) == 0 or len(set(y)) < 2:
        raise ValueError("the offer model needs decisions with both outcomes (stayed and left)")
    numeric, categorical = feature_columns(rows)
    numeric = [c for c in numeric if not is_protected(c.removeprefix(EXTRA_PREFIX))]
    categorical = [c for c in categorical if not is_protected(c.removeprefix(EXTRA_PREFIX))]
    accept_terms = options.accept_terms if options.accept_terms is not None else options.terms - {"risk"}
    wants_usage = "usage" in options.terms or "usage" in accept_terms
    usage = [c for c in numeric if c.startswith(EXTRA_PREFIX)] if wants_usage else []
    frame = rows_to_frame(rows, numeric, categorical)
    frame[REASON] = [r or NO_REASON for r in reasons]
    encoder = logistic_encoder(numeric, [*categorical, REASON], logged=skewed_counts(frame, numeric))
    with threadpool_limits(limits=1):
        x = _dense(encoder.fit_transform(frame))
    raw_usage = np.array([[_num(r.get(u)) for u in usage] for r in rows], dtype=float).reshape(len(rows), len(usage))
    usage_mean = np.nanmean(raw_usage, axis=0) if usage else np.zeros(0)
    usage_scale = np.nanstd(raw_usage, axis=0) if usage else np.ones(0)
    usage_scale = np.where((usage_scale > 0) & np.isfinite(usage_scale), usage_scale, 1.0)
    usage_mean = np.nan_to_num(usage_mean)
    usage_z = np.nan_to_num((raw_usage - usage_mean) / usage_scale, nan=0.0)
    model = OfferResponseModel(
        encoder,
        numeric,
        categorical,
        usage,
        usage_mean,
        usage_scale,
        None,
        None,
        seen_codes=frozenset(a for a in actions if a),
        seen_kinds=frozenset(kinds[a] for a in actions if a),
    )
    weights = stay_weights(props, options.min_propensity) if options.weighted else np.ones(len(y))
    segments = [str(r.get("segment") or MISSING) for r in rows]
    reason_codes = [r or NO_REASON for r in reasons]
    stay = _fit_part(
        x, y, weights, actions, kinds, reason_codes, segments, usage_z, usage, None, options.stay_c, options.terms
    )
    if "risk" in options.terms:
        risk_raw = x @ stay.base_coef
        model.risk_mean, model.risk_scale = float(risk_raw.mean()), float(risk_raw.std() or 1.0)
        risk = (risk_raw - model.risk_mean) / model.risk_scale
        refit = _fit_part(
            x, y, weights, actions, kinds, reason_codes, segments, usage_z, usage, risk, options.stay_c, options.terms
        )
        refit.risk_coef = stay.base_coef
        stay = refit
    model.stay = stay
    joint = options.estimator == JOINT and _fit_joint(model, calls, kinds, accept_terms, options)
    if not joint and options.estimator in (MIXTURE, JOINT):
        _fit_mixture(model, presentations, kinds, options.accept_c or MIXTURE_C, accept_terms)
        if model.leaver is not None:
            model.conversion = _fit_conversion(model, rows, reasons, actions, kinds, y, weights)
    elif not joint:
        model.accept = _fit_accept(model, presentations, kinds, options.accept_c or ACCEPT_C, accept_terms)
        if options.estimator == CONVERSION and model.accept is not None:
            model.conversion = _fit_conversion(model, rows, reasons, actions, kinds, y, weights)
    model.info = {
        "kind": "learned",
        "estimator": _estimator_used(options.estimator, joint, model.conversion is not None),
        "gift": model.gift,
        "durable": model.durable,
        "conversion": model.conversion,
        "decisions": len(y),
        "presentations": len(presentations),
        "weighted": options.weighted,
        "terms": sorted(options.terms),
        "usage": usage,
    }
    return model


def fit_on_decisions(
    decisions: Sequence[LoggedDecision],
    *,
    kinds: Mapping[str, str],
    presentations: Sequence[tuple[Mapping[str, Feature], str | None, str, bool, bool]] = (),
    calls: Sequence[CallAnswers] = (),
    options: FitOptions = FitOptions(),
) -> OfferResponseModel:
    """``fit_offer_model`` on logged decisions: the one way the nightly job and the benchmarks fit the model."""
    return fit_offer_model(
        rows=[d.features for d in decisions],
        reasons=[d.reason for d in decisions],
        actions=[d.action for d in decisions],
        propensities=[d.propensity for d in decisions],
        stayed=[d.stayed for d in decisions],
        kinds=kinds,
        presentations=presentations,
        calls=calls,
        options=options,
    )


def _fit_conversion(
    model: OfferResponseModel,
    rows: Sequence[Mapping[str, Feature]],
    reasons: Sequence[str | None],
    actions: Sequence[str | None],
    kinds: Mapping[str, str],
    y: np.ndarray,
    weights: np.ndarray,
) -> dict[str, float]:
    """κ per offer kind by weighted maximum likelihood on the decisions that made an offer.

    log κ[kind] = a + b[kind], with an L2 penalty on b (``CONVERSION_PENALTY``) so a kind with few decisions shares
    the common a. P(stay | none) and P(accept) come from the fitted parts; only κ is learned here.
    """
    chosen = [i for i, a in enumerate(actions) if a is not None]
    if not chosen:
        return {}
    kind_names = sorted({kinds[actions[i]] for i in chosen})
    rows_c = [rows[i] for i in chosen]
    x = model._encode(rows_c, [reasons[i] for i in chosen])
    reason_arr = np.array([reasons[i] or NO_REASON for i in chosen], dtype=object)
    segments = np.array([str(r.get("segment") or MISSING) for r in rows_c], dtype=object)
    usage = model._usage(rows_c)
    p_none = _sigmoid(model.stay.base(x))
    accept_base = model.accept.base(x) if model.accept is not None else np.zeros(len(chosen))
    accept_risk = model._accept_risk(x) if model.accept is not None else None
    p_accept = np.empty(len(chosen))  # what converts: P(accept), or with the mixture P(accept | would leave)
    for code in {actions[i] for i in chosen}:
        mask = np.array([actions[i] == code for i in chosen])
        offer = _Offer(code, kinds[code])
        risk = None if accept_risk is None else accept_risk[mask]
        terms = model.leaver if model.leaver is not None else model.accept.terms
        delta = _action_logit(terms, offer, reason_arr[mask], segments[mask], usage[mask], model.usage, risk)
        p_accept[mask] = _sigmoid(accept_base[mask] + delta)
    kind_idx = np.array([kind_names.index(kinds[actions[i]]) for i in chosen])
    yy, ww = y[chosen].astype(float), weights[chosen]

    def loss(t: np.ndarray) -> float:
        kappa = np.exp(t[0] + t[1:][kind_idx])
        p = np.clip(p_none + (1 - p_none) * np.minimum(1.0, kappa * p_accept), 1e-6, 1 - 1e-6)
        log_likelihood = np.sum(ww * (yy * np.log(p) + (1 - yy) * np.log(1 - p)))
        return float(-log_likelihood + 0.5 * CONVERSION_PENALTY * np.sum(t[1:] ** 2))

    fitted = optimize.minimize(loss, np.zeros(1 + len(kind_names)), method="L-BFGS-B").x
    return {k: float(np.exp(fitted[0] + fitted[1 + i])) for i, k in enumerate(kind_names)}


@dataclass(frozen=True)
class _Offer:
    code: str
    kind: str
    prior_acceptance: float = 0.0


def _fit_part(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    actions: Sequence[str | None],
    kinds: Mapping[str, str],
    reasons: Sequence[str],
    segments: Sequence[str],
    usage_z: np.ndarray,
    usage: Sequence[str],
    risk: np.ndarray | None,
    c: float,
    families: frozenset[str] = ALL_TERMS,
) -> _Linear:
    design = _Design(families)
    for i, code in enumerate(actions):
        if code is not None:
            r = None if risk is None else float(risk[i])
            design.add_action(i, code, kinds[code], reasons[i], segments[i], usage_z[i], usage, r)
    full = sparse.hstack([sparse.csr_matrix(x), design.matrix(len(y))]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000)
    with threadpool_limits(limits=1):
        clf.fit(full, y, sample_weight=weights)
    coef = clf.coef_[0]
    k = x.shape[1]
    return _Linear(
        coef[:k].copy(), float(clf.intercept_[0]), {name: float(coef[k + j]) for name, j in design.index.items()}
    )


def _fit_accept(
    model: OfferResponseModel,
    presentations: Sequence[tuple[Mapping[str, Feature], str | None, str, bool, bool]],
    kinds: Mapping[str, str],
    c: float,
    families: frozenset[str] = ALL_TERMS,
) -> _Linear | None:
    usable = [p for p in presentations if p[2] in kinds]
    y = np.array([int(p[3]) for p in usable], dtype=int)
    if len(usable) < 50 or len(set(y)) < 2:
        return None
    x = model._encode([p[0] for p in usable], [p[1] for p in usable])
    usage = model._usage([p[0] for p in usable])
    risk = None
    if "risk" in families and model.stay is not None:
        raw = model.stay.base(x)
        model.accept_risk = (float(raw.mean()), float(raw.std() or 1.0))
        risk = model._accept_risk(x)
    design = _Design(families)
    for i, (row, reason, code, _, follow_up) in enumerate(usable):
        segment = str(row.get("segment") or MISSING)
        r = None if risk is None else float(risk[i])
        design.add_action(i, code, kinds[code], reason or NO_REASON, segment, usage[i], model.usage, r)
        # A follow-up is made only after a decline: a different population, modelled apart and predicted at 0.
        design.add(i, "follow_up", 1.0 if follow_up else 0.0)
    full = sparse.hstack([sparse.csr_matrix(x), design.matrix(len(y))]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000)
    with threadpool_limits(limits=1):
        clf.fit(full, y)
    coef = clf.coef_[0]
    k = x.shape[1]
    model.accept_codes = frozenset(p[2] for p in usable)
    model.accept_kinds = frozenset(kinds[p[2]] for p in usable)
    return _Linear(
        coef[:k].copy(), float(clf.intercept_[0]), {name: float(coef[k + j]) for name, j in design.index.items()}
    )


def _fit_mixture(
    model: OfferResponseModel,
    presentations: Sequence[tuple[Mapping[str, Feature], str | None, str, bool, bool]],
    kinds: Mapping[str, str],
    c: float,
    families: frozenset[str],
) -> None:
    """P(accept) as a mixture of two kinds of caller, by penalised maximum likelihood on first presentations.

    A caller who would stay anyway (probability s = P(stay | none), from the stay part) takes an offer as a gift at
    a rate per offer (nested in its kind); one who would leave accepts what keeps them, at a rate of the action
    terms (offer, kind × reason, …). Only the second is incremental, so the ranking's gain is (1 − s) × P(accept |
    would leave): an offer that many accept mostly because loyal callers like gifts no longer looks like it saves
    anyone. Follow-up presentations (made after a decline, when the caller is likelier a leaver) are left out.
    """
    usable = [p for p in presentations if p[2] in kinds and not p[4]]
    y = np.array([int(p[3]) for p in usable], dtype=float)
    if len(usable) < 50 or len(set(y)) < 2:
        return
    x = model._encode([p[0] for p in usable], [p[1] for p in usable])
    s = np.clip(_sigmoid(model.stay.base(x)), 1e-4, 1 - 1e-4)
    usage = model._usage([p[0] for p in usable])
    leaver, gift = _Design(families - {"risk"}), _Design(frozenset({"kind", "offer"}))
    for i, (row, reason, code, _, _) in enumerate(usable):
        segment = str(row.get("segment") or MISSING)
        leaver.add_action(i, code, kinds[code], reason or NO_REASON, segment, usage[i], model.usage, None)
        gift.add(i, "offered")
        gift.add(i, f"kind={kinds[code]}")
        gift.add(i, f"offer={code}")
    a, b = leaver.matrix(len(y)), gift.matrix(len(y))
    n_a = a.shape[1]
    free = np.zeros(n_a + b.shape[1])  # the "offered" columns (intercepts) are not penalised
    penalty = np.ones_like(free) / c
    for name, j in gift.index.items():
        if name.startswith("offer="):
            penalty[n_a + j] = 1.0 / GIFT_OFFER_C
    penalty[leaver.index["offered"]] = 0.0
    penalty[n_a + gift.index["offered"]] = 0.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p_leaver, p_gift = _sigmoid(a @ theta[:n_a]), _sigmoid(b @ theta[n_a:])
        p = np.clip(s * p_gift + (1 - s) * p_leaver, 1e-9, 1 - 1e-9)
        nll = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
        d_p = -(y / p - (1 - y) / (1 - p))
        grad = np.concatenate(
            [a.T @ (d_p * (1 - s) * p_leaver * (1 - p_leaver)), b.T @ (d_p * s * p_gift * (1 - p_gift))]
        )
        return float(nll + 0.5 * np.sum(penalty * theta**2)), grad + penalty * theta

    theta = optimize.minimize(loss, free, jac=True, method="L-BFGS-B").x
    model.leaver = {name: float(theta[j]) for name, j in leaver.index.items()}
    model.gift = {name: float(theta[n_a + j]) for name, j in gift.index.items()}
    model.accept_codes = frozenset(p[2] for p in usable)
    model.accept_kinds = frozenset(kinds[p[2]] for p in usable)


def _estimator_used(asked: str, joint: bool, converted: bool) -> str:
    if joint:
        return JOINT
    if not converted:
        return "direct"
    return MIXTURE if asked == JOINT else asked  # the joint estimator falls back to the mixture without calls


def _fit_joint(
    model: OfferResponseModel,
    calls: Sequence[CallAnswers],
    kinds: Mapping[str, str],
    families: frozenset[str],
    options: FitOptions,
) -> bool:
    """The joint estimator (ml/offer_joint.py) on every call's answers and fate; False when there is too little."""
    usable = [call for call in calls if all(a.offer_code in kinds for a in call.answers)]
    if sum(len(call.answers) for call in usable) < 50 or not any(call.stayed is not None for call in usable):
        return False
    rows = [call.features for call in usable]
    x = model._encode(rows, [call.reason for call in usable])
    usage = model._usage(rows)
    leaver, gift = _Design(families - {"risk"}), _Design(options.gift_terms)
    call_of: list[int] = []
    accepted: list[bool] = []
    for i, call in enumerate(usable):
        segment = str(call.features.get("segment") or MISSING)
        for answer in call.answers:
            code, yes = answer.offer_code, answer.accepted
            row = len(call_of)
            leaver.add_action(row, code, kinds[code], call.reason or NO_REASON, segment, usage[i], model.usage, None)
            gift.add_action(row, code, kinds[code], call.reason or NO_REASON, segment, usage[i], model.usage, None)
            call_of.append(i)
            accepted.append(yes)
            if yes:
                break
    took = [next((kinds[a.offer_code] for a in call.answers if a.accepted), None) for call in usable]
    weight = np.ones(len(usable))
    labelled = [i for i, call in enumerate(usable) if call.stayed is not None and call.propensity is not None]
    if options.weighted and labelled:
        weight[labelled] = stay_weights([usable[i].propensity or 1.0 for i in labelled], options.min_propensity)
    # One BLAS thread: the fit's matrices are small, and threads only contend with whatever else runs (two
    # 30-day simulations side by side on two cores took about 0.55× as long with it as without, in the same run).
    with threadpool_limits(limits=1):
        fit = fit_joint(
            x=x,
            calls=usable,
            leaver_design=leaver.matrix(len(call_of)),
            gift_design=gift.matrix(len(call_of)),
            leaver_index=leaver.index,
            gift_index=gift.index,
            presentation_call=np.array(call_of, dtype=np.int64),
            accepted=np.array(accepted, dtype=bool),
            kinds_of_calls=took,
            kind_names=sorted({kinds[a.offer_code] for call in usable for a in call.answers}),
            start_coef=model.stay.base_coef if model.stay is not None else np.zeros(x.shape[1]),
            start_intercept=model.stay.intercept if model.stay is not None else 0.0,
            weight=weight,
            stay_c=options.stay_c,
            action_c=options.accept_c or MIXTURE_C,
            gift_offer_c=GIFT_OFFER_C,
        )
    model.stay = _Linear(fit.stay_coef, fit.stay_intercept, {})
    model.leaver, model.gift, model.durable = fit.leaver, fit.gift, fit.durable
    model.accept_codes = frozenset(a.offer_code for call in usable for a in call.answers)
    model.accept_kinds = frozenset(kinds[code] for code in model.accept_codes)
    return True


def _dense(x: Any) -> np.ndarray:
    """An encoder's output as a dense float array (the one-hot blocks may come out sparse)."""
    return x.toarray() if sparse.issparse(x) else np.asarray(x, dtype=float)
