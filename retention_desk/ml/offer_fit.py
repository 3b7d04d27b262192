"""Fitting the offer-response model on the desk's logged calls: the joint model, or its fallback when it cannot run.

First the stay regression (``DIRECT``): P(stay) on logged decisions (the call's rank-1 action), over the encoded
account, the cancel reason and the action terms, weighted by 1 / propensity, clipped at ``MIN_PROPENSITY`` and
normalised to mean 1. The ranking compares every permitted action on the same caller; the logging policy, though,
puts its favourites first on the callers it likes them for, so an unweighted fit learns each action's effect on the
callers it happened to get. Weighting by the inverse propensity makes the sample stand for "every action on every
caller"; clipping bounds the variance a few near-zero propensities would bring.

Then the joint model (``JOINT``, ml/offer_joint.py) on every call's answers and fate, starting from the stay
regression's coefficients. It needs answers: at least ``MIN_ANSWERS`` and one call with a known fate. The nightly
job asks for a thousand labelled decisions, not for answers, so a desk whose agents log decisions but few answers
(or a catalog whose answered offers are gone) would otherwise have no model at all; there the stay regression serves
as it is, with the catalog's prior acceptance. That is the one fallback the joint model needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from retention_desk.ml.encoding import logistic_encoder, skewed_counts
from retention_desk.ml.features import EXTRA_PREFIX, Feature, feature_columns, is_protected, rows_to_frame
from retention_desk.ml.offer_joint import CallAnswers, fit_joint
from retention_desk.ml.offer_model import (
    ARTIFACT_FORMAT,
    DIRECT,
    JOINT,
    NO_REASON,
    REASON,
    Linear,
    OfferResponseModel,
    action_terms,
    dense,
)

__all__ = ["FitOptions", "LoggedDecision", "fit_offer_model", "fit_on_decisions", "stay_weights"]

MIN_PROPENSITY = 0.01
MIN_ANSWERS = 50
STAY_C = 0.3
# The joint model's action terms share the data with its stay part; benchmarks/offer_model_truth.py chose 3 over 1
# and 10.
ACTION_C = 3.0
# An offer's gift rate (loyal callers taking it) is shrunk hard toward its kind's: on the demo world a free hand per
# offer chose worse (85% of the oracle's value against 87%), yet plenty of data still separates two offers of a kind.
GIFT_OFFER_C = 0.03


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
class FitOptions:
    """The choices measured in experiments/NOTEBOOK.md; the defaults are the chosen ones."""

    weighted: bool = True
    stay_c: float = STAY_C
    action_c: float = ACTION_C
    min_propensity: float = MIN_PROPENSITY


def stay_weights(propensities: Sequence[float] | np.ndarray, min_propensity: float = MIN_PROPENSITY) -> np.ndarray:
    """1 / propensity, clipped at ``min_propensity`` and normalised to mean 1 (why: see the module docstring)."""
    p = np.clip(np.asarray(propensities, dtype=float), min_propensity, 1.0)
    w = 1.0 / p
    return w / w.mean() if len(w) else w


def fit_on_decisions(
    decisions: Sequence[LoggedDecision],
    *,
    kinds: Mapping[str, str],
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
        calls=calls,
        options=options,
    )


def fit_offer_model(
    *,
    rows: Sequence[Mapping[str, Feature]],
    reasons: Sequence[str | None],
    actions: Sequence[str | None],
    propensities: Sequence[float],
    stayed: Sequence[bool],
    kinds: Mapping[str, str],
    calls: Sequence[CallAnswers] = (),
    options: FitOptions = FitOptions(),
) -> OfferResponseModel:
    """The joint model on ``calls`` (each call's answers and fate), or the stay regression alone without enough.

    ``kinds`` maps offer codes to their catalog kind; a decision whose offer has no known kind is left out, and so is
    a call that answered one.
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
    frame = rows_to_frame(rows, numeric, categorical)
    frame[REASON] = [r or NO_REASON for r in reasons]
    encoder = logistic_encoder(numeric, [*categorical, REASON], logged=skewed_counts(frame, numeric))
    with threadpool_limits(limits=1):
        x = dense(encoder.fit_transform(frame))
    model = OfferResponseModel(
        encoder, numeric, categorical, None, seen_kinds=frozenset(kinds[a] for a in actions if a)
    )
    weights = stay_weights(props, options.min_propensity) if options.weighted else np.ones(len(y))
    model.stay = _fit_stay(x, y, weights, actions, kinds, [r or NO_REASON for r in reasons], options.stay_c)
    answers = _fit_joint(model, calls, kinds, options)
    model.info = {
        "kind": "learned",
        "format": ARTIFACT_FORMAT,
        "estimator": JOINT if answers else DIRECT,
        "gift": model.gift,
        "durable": model.durable,
        "decisions": len(y),
        "answers": answers,
        "weighted": options.weighted,
    }
    return model


class _Design:
    """Builds the sparse action-term columns for training, one vocabulary per fitted part."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.rows: list[int] = []
        self.cols: list[int] = []

    def add(self, row: int, names: Sequence[str]) -> None:
        for name in names:
            self.rows.append(row)
            self.cols.append(self.index.setdefault(name, len(self.index)))

    def matrix(self, n: int) -> sparse.csr_matrix:
        values = np.ones(len(self.rows))
        return sparse.csr_matrix((values, (self.rows, self.cols)), shape=(n, len(self.index)))


def _fit_stay(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    actions: Sequence[str | None],
    kinds: Mapping[str, str],
    reasons: Sequence[str],
    c: float,
) -> Linear:
    """The weighted stay regression over the encoded accounts and the logged actions' terms."""
    design = _Design()
    for i, code in enumerate(actions):
        if code is not None:
            design.add(i, action_terms(code, kinds[code], reasons[i]))
    full = sparse.hstack([sparse.csr_matrix(x), design.matrix(len(y))]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000)
    with threadpool_limits(limits=1):
        clf.fit(full, y, sample_weight=weights)
    coef = clf.coef_[0]
    k = x.shape[1]
    return Linear(
        coef[:k].copy(), float(clf.intercept_[0]), {name: float(coef[k + j]) for name, j in design.index.items()}
    )


def _fit_joint(
    model: OfferResponseModel, calls: Sequence[CallAnswers], kinds: Mapping[str, str], options: FitOptions
) -> int:
    """The joint model (ml/offer_joint.py) on every call's answers and fate, in place of the stay regression it
    starts from; the number of answers it read, or 0 when there is too little to fit it."""
    usable = [call for call in calls if all(a.offer_code in kinds for a in call.answers)]
    n_answers = sum(len(call.answers) for call in usable)
    if n_answers < MIN_ANSWERS or not any(call.stayed is not None for call in usable):
        return 0
    assert model.stay is not None
    x = model.encode([call.features for call in usable], [call.reason for call in usable])
    leaver, gift = _Design(), _Design()
    call_of: list[int] = []
    accepted: list[bool] = []
    for i, call in enumerate(usable):
        reason = call.reason or NO_REASON
        for answer in call.answers:
            code, kind = answer.offer_code, kinds[answer.offer_code]
            terms = action_terms(code, kind, reason)
            leaver.add(len(call_of), terms)
            gift.add(len(call_of), terms[:3])  # a gift's rate by offer only: loyal callers' tastes, not their reasons
            call_of.append(i)
            accepted.append(answer.accepted)
            if answer.accepted:
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
            start_coef=model.stay.base_coef,
            start_intercept=model.stay.intercept,
            weight=weight,
            stay_c=options.stay_c,
            action_c=options.action_c,
            gift_offer_c=GIFT_OFFER_C,
        )
    model.stay = Linear(fit.stay_coef, fit.stay_intercept, {})
    model.leaver, model.gift, model.durable = fit.leaver, fit.gift, fit.durable
    model.accept_kinds = frozenset(kinds[a.offer_code] for call in usable for a in call.answers)
    return n_answers
