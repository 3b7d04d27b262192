"""The offer-response model as the desk serves it: P(the caller stays | action, account, cancel reason) and
P(accept | offer presented), for a screen of callers × offers at once.

A fitted model is one of two (``offer_fit.fit_offer_model`` says which it fitted, and why):

- ``JOINT`` (ml/offer_joint.py), the desk's model: two kinds of caller ring to cancel. A share s would stay anyway
  (a logistic regression on the account and the cancel reason); they take an offer as a gift at a rate g per offer.
  The rest would leave; they accept what keeps them at a rate l of the action terms. Whoever accepts stays at the
  call, and is still a subscriber at the label horizon with a durability d by offer kind (none: d(none)).
- ``DIRECT``, its fallback: the stay regression alone, logit P(stay) = base(account, reason) + action terms, with
  the catalog's prior acceptance; the joint fit starts from it.

Both encode the account like the churn model does (``encoding.logistic_encoder``), with the cancel reason as one
more category and a log twin of each count-like number. The action terms are nested (offered, offer kind, offer
code, kind × reason), so the penalty shrinks an offer with few decisions toward its kind, and an offer code the model
never saw is predicted at kind level; a kind it never saw falls back to the catalog prior. Being linear in these
terms, a screen of n callers × m offers costs one encoding of the n rows and m table look-ups.

Protected attributes never feed the model: the rows come from ``build_features``, which drops them, and the fit
drops any column that looks protected again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import sparse
from sklearn.compose import ColumnTransformer
from threadpoolctl import threadpool_limits

from retention_desk.ml.features import Feature, rows_to_frame
from retention_desk.ml.offer_joint import durability

__all__ = [
    "ARTIFACT_FORMAT",
    "DEFAULT_STAY_NONE",
    "DIRECT",
    "JOINT",
    "MIN_DECISIONS",
    "OfferLike",
    "OfferPredictions",
    "OfferResponseModel",
    "PRIOR_KEEP_SHARE",
    "PredictedArrays",
    "prior_offer_model",
]

# The layout of the pickled model. Serving refuses an artifact stored with another (or none) before unpickling it,
# and the desk ranks on the catalog priors until the next retrain: bump it whenever the attributes change.
ARTIFACT_FORMAT = 2
# Fewer labelled decisions than this and the nightly job keeps the catalog priors (experiments/NOTEBOOK.md: below
# about a thousand decisions the learned greedy policy did not beat the prior one on the demo world's hold-out).
MIN_DECISIONS = 1000
# Share of an acceptance that turns a leaver into a stayer, for the cold-start prior: a caller who accepts was
# about half the time going to stay anyway (the desk's early logs and the demo world agree on roughly that).
PRIOR_KEEP_SHARE = 0.5
# P(stay | no offer) when neither a model nor the churn risk says more: the demo world's no-offer save rate.
DEFAULT_STAY_NONE = 0.35
JOINT = "joint"
DIRECT = "direct"
REASON = "_reason"
NO_REASON = "none"
# What each is, for the registry's estimator column (80 characters at most).
DESCRIPTIONS = {
    JOINT: "joint latent-class model of answers and fate (logistic parts)",
    DIRECT: "IPW logistic P(stay | action) with the catalog's prior acceptance",
    "prior": "catalog priors",
}


class OfferLike(Protocol):
    """What the model reads from a catalog entry (``services.catalog.OfferSpec`` fits)."""

    code: str
    kind: str
    prior_acceptance: float


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


@dataclass
class Linear:
    """A fitted logistic part: coefficients of the encoded account (the base) and the action terms by name."""

    base_coef: np.ndarray
    intercept: float
    terms: dict[str, float]

    def base(self, x: np.ndarray) -> np.ndarray:
        return x @ self.base_coef + self.intercept


@dataclass
class OfferResponseModel:
    """Fitted response model; ``predict`` is the only thing serving calls. Without a stay part, the catalog priors.

    ``stay`` is P(stay) itself for the direct fallback, and the share who would stay anyway for the joint model,
    which also holds the leaver's and the gift's action terms and the durability logits (``durable``)."""

    encoder: ColumnTransformer | None
    numeric: list[str]
    categorical: list[str]
    stay: Linear | None
    leaver: dict[str, float] | None = None
    gift: dict[str, float] | None = None
    durable: dict[str, float] | None = None
    seen_kinds: frozenset[str] = frozenset()  # kinds among the logged decisions (the direct fallback's terms)
    accept_kinds: frozenset[str] = frozenset()  # kinds among the answers (the joint model's terms)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def is_prior(self) -> bool:
        return self.stay is None

    @property
    def description(self) -> str:
        """What this model is, for the registry's estimator column."""
        return DESCRIPTIONS.get(self.info.get("estimator", "prior"), "catalog priors")

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
        """``predict_arrays`` with, for the joint estimator, each prediction split by kind of caller.

        ``risks`` (the churn model's P(churn)) stand in for P(stay | no offer) only in the catalog priors."""
        if self.stay is None or self.encoder is None:
            return _prior_parts(len(rows), offers, risks)
        base = self.stay.base(self.encode(rows, reasons))
        reason_arr = np.array([r or NO_REASON for r in reasons], dtype=object)
        if self.durable is not None:
            return self._predict_joint(base, offers, reason_arr)
        return self._predict_direct(base, offers, reason_arr)

    def _predict_direct(self, base: np.ndarray, offers: Sequence[OfferLike], reasons: np.ndarray) -> PredictedArrays:
        """P(stay | action) from the stay regression's action terms; P(accept) the catalog prior."""
        assert self.stay is not None
        p_none = _sigmoid(base)
        shape = (len(base), len(offers))
        stay, accept = np.empty(shape), np.empty(shape)
        for j, offer in enumerate(offers):
            accept[:, j] = float(offer.prior_acceptance)
            if offer.kind in self.seen_kinds:
                stay[:, j] = _sigmoid(base + action_logit(self.stay.terms, offer, reasons))
            else:
                stay[:, j] = _prior_stay(p_none, float(offer.prior_acceptance))
        return PredictedArrays(p_none, stay, accept)

    def _predict_joint(self, base: np.ndarray, offers: Sequence[OfferLike], reasons: np.ndarray) -> PredictedArrays:
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
            leaver = _sigmoid(action_logit(self.leaver, offer, reasons))
            gift = _sigmoid(action_logit(self.gift, offer, reasons))
            d = durability(self.durable, offer.kind, base)
            accept[:, j] = s * gift + (1.0 - s) * leaver
            stay[:, j] = s * (gift * d + (1.0 - gift) * d_none) + (1.0 - s) * leaver * d
            gifts[:, j], stayer_kept[:, j], leavers[:, j], leaver_kept[:, j] = gift, d - d_none, leaver, d
        return PredictedArrays(p_none, stay, accept, s, (gifts, stayer_kept), (leavers, leaver_kept))

    def encode(self, rows: Sequence[Mapping[str, Feature]], reasons: Sequence[str | None]) -> np.ndarray:
        """The encoded account rows with their cancel reasons, as the stay part reads them."""
        assert self.encoder is not None
        frame = rows_to_frame(rows, self.numeric, self.categorical)
        frame[REASON] = [r or NO_REASON for r in reasons]
        with threadpool_limits(limits=1):
            return dense(self.encoder.transform(frame))


def prior_offer_model() -> OfferResponseModel:
    """The cold-start model: every prediction from the catalog's prior acceptance (see the formula in docs).

    P(accept) = prior_acceptance; P(stay | offer) = P(stay | none) + (1 − P(stay | none)) × prior_acceptance ×
    ``PRIOR_KEEP_SHARE``; P(stay | none) = 1 − the churn model's risk when given, else ``DEFAULT_STAY_NONE``.
    """
    return OfferResponseModel(None, [], [], None, info={"kind": "prior", "format": ARTIFACT_FORMAT})


def dense(x: Any) -> np.ndarray:
    """An encoder's output as a dense float array (the one-hot blocks may come out sparse)."""
    return x.toarray() if sparse.issparse(x) else np.asarray(x, dtype=float)


def action_terms(code: str, kind: str, reason: str) -> tuple[str, ...]:
    """The names of an action's terms: offered, its kind, its offer code, kind × cancel reason."""
    return ("offered", f"kind={kind}", f"offer={code}", f"kind={kind}|reason={reason}")


def action_logit(terms: Mapping[str, float], offer: OfferLike, reasons: np.ndarray) -> np.ndarray:
    """The action terms' contribution for one offer, for every row at once (a term never fitted counts 0)."""
    kind = offer.kind
    out = np.full(len(reasons), terms.get("offered", 0.0) + terms.get(f"kind={kind}", 0.0))
    out += terms.get(f"offer={offer.code}", 0.0)
    uniques, inverse = np.unique(reasons.astype(str), return_inverse=True)
    out += np.array([terms.get(f"kind={kind}|reason={u}", 0.0) for u in uniques])[inverse]
    return out


def _prior_parts(n: int, offers: Sequence[OfferLike], risks: Sequence[float | None] | None) -> PredictedArrays:
    priors = np.array([float(o.prior_acceptance) for o in offers])
    if risks is None:
        p_none = np.full(n, DEFAULT_STAY_NONE)
    else:
        p_none = np.array([DEFAULT_STAY_NONE if r is None or math.isnan(r) else 1.0 - float(r) for r in risks])
    stay = _prior_stay(p_none[:, None], priors[None, :])
    return PredictedArrays(p_none, stay, np.broadcast_to(priors, (n, len(offers))).copy())


def _prior_stay(p_none: np.ndarray, prior_acceptance: float | np.ndarray) -> np.ndarray:
    return p_none + (1.0 - p_none) * prior_acceptance * PRIOR_KEEP_SHARE


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
