"""The joint estimator of the offer-response model: one likelihood for a call's answers *and* its caller's fate.

Two kinds of caller ring to cancel. One would stay anyway (share s, a logistic regression on the account and the
cancel reason); they take an offer as a gift at a rate per offer. The other would leave; they accept what keeps
them, at a rate of the action terms (offer, kind × reason, …). Whoever accepts stays at the call, and is still a
subscriber at the label horizon with a durability per offer kind (a caller saved with no offer has their own); a
would-be leaver who declines everything leaves (but for a small share, ``LEAVER_STAYS``).

A call that ends without an accepted offer also says at once which kind of caller rang: one who then stays
("saved without an offer") would have stayed anyway, one who goes on to cancel would have left. That is known the
moment the call closes, months before the fate at the horizon, so the newest calls (the ones most like today's
callers) teach the model who stays, not only what they answered.

A separate fit of the answers alone, with s taken from a stay regression, cannot tell a loyal caller's gift from a
leaver's save where s is high. Here every call's whole story enters one likelihood, with the two kinds of caller as
a latent class:

    P(call) = s × P(answers | would stay) × P(fate | would stay) + (1 − s) × P(answers | would leave) × P(fate | …)

so a caller who declined and then left was a leaver, one who declined and stayed was not, and the share of leavers
left among the decliners tells how many leavers the offer kept. Calls too recent to have a fate still add their
answers (the fate factor is 1). The gradient is exact (the posterior share of each kind of caller weights each
part, as in EM), so the fit is one L-BFGS run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from retention_desk.ml.features import Feature
from retention_desk.storage.offer_training_data import Answer

# A would-be leaver who declined every offer and is still here at the horizon: rare, but real desks see callers
# change their minds; a hard 0 would make one such call impossible under the model.
LEAVER_STAYS = 0.02
# A caller who declined everything and then stayed, yet was a would-be leaver (or cancelled, yet would have stayed):
# a disposition recorded in error. Small, so the ending nearly decides the kind of caller, but never certain.
AT_CALL_SLIP = 0.01
DURABLE_C = 10.0  # weak: durability per kind is well determined by the accepted calls' fates
NONE = "none"


@dataclass(frozen=True)
class CallAnswers:
    """One call as the joint estimator reads it: the caller, the answers in the order made, and the fate."""

    features: Mapping[str, Feature]
    reason: str | None
    answers: tuple[Answer, ...]  # in the order presented
    stayed: bool | None  # still a subscriber at the label horizon; None = too recent to know
    propensity: float | None = None  # P(the logging policy made this call's decision), when labelled
    # How a call that accepted nothing ended: True = stayed, False = cancelled, None = unknown (open, called back,
    # escalated) or an offer was accepted.
    stayed_at_call: bool | None = None


@dataclass(frozen=True)
class JointFit:
    """The fitted parameters; ``offer_model`` keeps them on the response model."""

    stay_coef: np.ndarray
    stay_intercept: float
    leaver: dict[str, float]
    gift: dict[str, float]
    durable: dict[str, float]  # logit of the durability by kind (and ``NONE``), plus "slope" on the stay logit


def durability(durable: Mapping[str, float], kind: str | None, stay_logit: np.ndarray) -> np.ndarray:
    """P(a caller saved by this kind of offer, or by none, is still here at the horizon)."""
    key = NONE if kind is None else kind
    return _sigmoid(durable.get(key, durable[NONE]) + durable.get("slope", 0.0) * stay_logit)


def fit_joint(
    *,
    x: np.ndarray,
    calls: Sequence[CallAnswers],
    leaver_design: sparse.csr_matrix,
    gift_design: sparse.csr_matrix,
    leaver_index: Mapping[str, int],
    gift_index: Mapping[str, int],
    presentation_call: np.ndarray,
    accepted: np.ndarray,
    kinds_of_calls: Sequence[str | None],
    kind_names: Sequence[str],
    start_coef: np.ndarray,
    start_intercept: float,
    weight: np.ndarray,
    stay_c: float,
    action_c: float,
    gift_offer_c: float,
) -> JointFit:
    """Penalised maximum likelihood of the latent-class model (see the module docstring).

    ``x`` holds one encoded row per call; the designs one row per presentation (``presentation_call`` gives its
    call, ``accepted`` its answer); ``kinds_of_calls`` the kind of the offer each call accepted (None: none).
    """
    n, k = x.shape
    n_l, n_g = leaver_design.shape[1], gift_design.shape[1]
    names = [NONE, *kind_names]
    kind_idx = np.array([names.index(kind if kind is not None else NONE) for kind in kinds_of_calls])
    took = np.array([kind is not None for kind in kinds_of_calls])
    y = np.array([-1 if c.stayed is None else int(c.stayed) for c in calls])
    labelled = y >= 0
    leaver_declined_fate = np.where(labelled & ~took, np.log(np.where(y == 1, LEAVER_STAYS, 1 - LEAVER_STAYS)), 0.0)
    ending = np.array([-1 if c.stayed_at_call is None else int(c.stayed_at_call) for c in calls])
    ending = np.where(took, -1, ending)
    slip, sure = np.log(AT_CALL_SLIP), np.log1p(-AT_CALL_SLIP)
    stayer_ending = np.select([ending == 1, ending == 0], [sure, slip], 0.0)
    leaver_ending = np.select([ending == 1, ending == 0], [slip, sure], 0.0)

    sizes = (k, 1, n_l, n_g, len(names), 1)
    bounds = np.cumsum((0, *sizes))

    def split(theta: np.ndarray) -> list[np.ndarray]:
        return [theta[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]

    penalty = np.concatenate(
        [
            np.full(k, 1.0 / stay_c),
            [0.0],
            np.full(n_l, 1.0 / action_c),
            np.full(n_g, 1.0 / action_c),
            np.full(len(names) + 1, 1.0 / DURABLE_C),
        ]
    )
    penalty[bounds[2] + leaver_index["offered"]] = 0.0
    penalty[bounds[3] + gift_index["offered"]] = 0.0
    for name, j in gift_index.items():
        if name.startswith("offer="):
            penalty[bounds[3] + j] = 1.0 / gift_offer_c

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept, t_l, t_g, t_d, slope = split(theta)
        u = x @ coef + intercept[0]
        a, b = leaver_design @ t_l, gift_design @ t_g
        log_a = np.bincount(presentation_call, _log_answer(b, accepted), minlength=n) + stayer_ending
        log_b = np.bincount(presentation_call, _log_answer(a, accepted), minlength=n) + leaver_declined_fate
        log_b = log_b + leaver_ending
        d_logit = t_d[kind_idx] + slope[0] * u
        log_fate = np.where(labelled, np.where(y == 1, -np.logaddexp(0, -d_logit), -np.logaddexp(0, d_logit)), 0.0)
        log_s, log_l = -np.logaddexp(0, -u), -np.logaddexp(0, u)
        in_a = log_s + log_a + log_fate
        in_b = log_l + log_b + np.where(took, log_fate, 0.0)
        z = np.logaddexp(in_a, in_b)
        r = np.exp(in_a - z)  # posterior share of "would stay anyway"
        # d log D / d logit(D) on the path(s) the fate enters: the stayer's always, the leaver's when they accepted.
        d_fate = np.where(labelled, np.where(y == 1, 1 - _sigmoid(d_logit), -_sigmoid(d_logit)), 0.0)
        on_path = np.where(took, 1.0, r) * d_fate
        g_u = weight * (r - np.exp(log_s) + slope[0] * on_path)
        w_p = weight[presentation_call]
        g_b = w_p * r[presentation_call] * _d_log_answer(b, accepted)
        g_a = w_p * (1 - r[presentation_call]) * _d_log_answer(a, accepted)
        g_d = np.bincount(kind_idx, weight * on_path, minlength=len(names))
        grad = -np.concatenate(
            [x.T @ g_u, [g_u.sum()], leaver_design.T @ g_a, gift_design.T @ g_b, g_d, [np.sum(weight * on_path * u)]]
        )
        nll = -float(np.sum(weight * z))
        return nll + 0.5 * float(np.sum(penalty * theta**2)), grad + penalty * theta

    start = np.zeros(bounds[-1])
    start[: k + 1] = np.concatenate([start_coef, [start_intercept]])
    start[bounds[2] + leaver_index["offered"]] = -2.0
    start[bounds[3] + gift_index["offered"]] = -1.0
    start[bounds[4] : bounds[5]] = 2.0
    theta = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x
    coef, intercept, t_l, t_g, t_d, slope = split(theta)
    durable = {name: float(t_d[i]) for i, name in enumerate(names)}
    durable["slope"] = float(slope[0])
    return JointFit(
        coef.copy(),
        float(intercept[0]),
        {name: float(t_l[j]) for name, j in leaver_index.items()},
        {name: float(t_g[j]) for name, j in gift_index.items()},
        durable,
    )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _log_answer(logit: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """log P(this answer) for a yes-rate with the given logit."""
    return np.where(accepted, -np.logaddexp(0, -logit), -np.logaddexp(0, logit))


def _d_log_answer(logit: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    p = _sigmoid(logit)
    return np.where(accepted, 1 - p, -p)
