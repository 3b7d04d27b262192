"""The joint estimator reads each call's answers and fate together: it tells gifts from saves and learns how long
saves last; the nightly job feeds it every call but the hold-out's."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest

from retention_desk.ml.labels import ending_of
from retention_desk.ml.offer_data import OfferData, OfferExample, OfferPresentation, RecentCall, answered_calls
from retention_desk.ml.offer_fit import fit_offer_model
from retention_desk.ml.offer_joint import CallAnswers, _sigmoid, durability
from retention_desk.ml.offer_model import OfferResponseModel
from retention_desk.storage.offer_training_data import Answer
from tests.unit.test_offer_model import Spec, _row

GIFT = Spec("CHANNEL_FREE", "premium_channel", 0.4)
SAVER = Spec("HALF_PRICE", "percent_discount", 0.3)

KINDS = {GIFT.code: GIFT.kind, SAVER.code: SAVER.kind}
LASTS = {None: 0.95, GIFT.code: 0.95, SAVER.code: 0.7}  # P(still here at the horizon | saved by …)


def _calls(n: int = 8000, seed: int = 11, known: float = 0.8, endings: bool = False):
    """Long-standing callers mostly stay anyway (s = 0.8), new ones mostly leave (s = 0.2). Would-be stayers take
    GIFT 70% of the time and SAVER 20%; would-be leavers GIFT 5% and SAVER 45%. Saves by SAVER last 70% to the
    horizon, the rest 95%. A share ``1 - known`` of the calls are too recent to have a fate; with ``endings`` a call
    that accepted nothing says how it ended (a would-be stayer stays, a would-be leaver cancels)."""
    rng = random.Random(seed)
    accept = {GIFT.code: (0.7, 0.05), SAVER.code: (0.2, 0.45)}
    decisions, calls = [], []
    for _ in range(n):
        row = _row(rng)
        stays_anyway = rng.random() < (0.8 if row["tenure_months"] > 30 else 0.2)
        action = rng.choice([None, GIFT.code, SAVER.code])
        yes = action is not None and rng.random() < accept[action][0 if stays_anyway else 1]
        saved_by = action if yes else None
        stayed = (stays_anyway or yes) and rng.random() < LASTS[saved_by]
        is_known = rng.random() < known
        answers = (Answer(action, yes),) if action else ()
        ending = stays_anyway if endings and not yes else None
        calls.append(CallAnswers(row, "price", answers, stayed if is_known else None, 1 / 3, ending))
        if is_known:
            decisions.append((row, action, stayed))
    return decisions, calls


def _fit(decisions, calls, use_calls: bool = True) -> OfferResponseModel:
    return fit_offer_model(
        rows=[d[0] for d in decisions],
        reasons=["price"] * len(decisions),
        actions=[d[1] for d in decisions],
        propensities=[1 / 3] * len(decisions),
        stayed=[d[2] for d in decisions],
        kinds=KINDS,
        calls=calls if use_calls else (),
    )


def test_the_joint_estimator_tells_gifts_from_saves_and_learns_how_long_saves_last():
    # Every call says how it ended, as the desk's do: without the endings, the share who stay anyway and a stayer's
    # durability are told apart only through the answers, and a stay part that can draw the tenure step sharply
    # (the log twins) trades one for the other.
    decisions, calls = _calls(endings=True)
    model = _fit(decisions, calls)
    assert model.info["estimator"] == "joint"
    probe = [_row(random.Random(i)) for i in range(600)]
    new = [r for r in probe if r["tenure_months"] <= 30]
    p_none, p_stay, p_accept = model.predict_arrays(new, ["price"] * len(new), [GIFT, SAVER])
    gain = (p_stay - p_none[:, None]).mean(axis=0)
    # P(stay | offer) − P(stay | none) = s × g × (d_offer − d_none) + (1 − s) × l × d_offer, here s = 0.2
    truth = [0.8 * 0.05 * 0.95, 0.2 * 0.2 * (0.7 - 0.95) + 0.8 * 0.45 * 0.7]
    assert gain == pytest.approx(truth, abs=0.05)
    assert p_none.mean() == pytest.approx(0.2 * 0.95, abs=0.06)
    assert p_accept.mean(axis=0) == pytest.approx([0.2 * 0.7 + 0.8 * 0.05, 0.2 * 0.2 + 0.8 * 0.45], abs=0.06)
    assert model.durable is not None
    assert abs(model.durable["slope"]) < 0.3  # here how long a save lasts does not depend on the caller
    average_caller = np.zeros(1)
    assert durability(model.durable, None, average_caller)[0] == pytest.approx(0.95, abs=0.03)
    assert durability(model.durable, SAVER.kind, average_caller)[0] == pytest.approx(0.7, abs=0.06)
    # Split by kind of caller for planning the call: the parts add up to the same predictions, and the gift is
    # taken by the would-be stayers, the save by the would-be leavers.
    got = model.predict_parts(new, ["price"] * len(new), [GIFT, SAVER])
    assert got.share is not None and got.stayer is not None and got.leaver is not None
    share = got.share[:, None]
    (g, kept_s), (l_, kept_l) = got.stayer, got.leaver
    assert share * g + (1 - share) * l_ == pytest.approx(got.accept)
    assert share * g * kept_s + (1 - share) * l_ * kept_l == pytest.approx(got.stay - got.p_none[:, None])
    assert g[:, 0].mean() > l_[:, 0].mean() and l_[:, 1].mean() > g[:, 1].mean()
    first = model.predict(new[:1], ["price"], [GIFT, SAVER])[0]
    assert [r[0] for r in first.responses[GIFT.code]] == pytest.approx([share[0, 0], 1 - share[0, 0]])


def test_how_a_call_ended_teaches_who_stays_long_before_the_fates_come_in():
    """Nine calls in ten too recent for a fate: with how they ended, the share who would stay anyway comes out as
    it does when every fate (and every ending) is known; without, it does not. (The planted share is a step in
    tenure, which a logistic cannot draw exactly, so the yardstick is the fit with every fate known, not the step
    itself.)"""
    probe = [_row(random.Random(i)) for i in range(600)]
    groups = [[r for r in probe if r["tenure_months"] <= 30], [r for r in probe if r["tenure_months"] > 30]]

    def stay_anyway(model: OfferResponseModel) -> np.ndarray:
        assert model.stay is not None
        return np.array([_sigmoid(model.stay.base(model.encode(g, ["price"] * len(g)))).mean() for g in groups])

    everything = stay_anyway(_fit(*_calls(6000, seed=5, known=1.0, endings=True)))
    with_endings = stay_anyway(_fit(*_calls(6000, seed=5, known=0.1, endings=True)))
    fates_only = stay_anyway(_fit(*_calls(6000, seed=5, known=0.1)))
    assert everything == pytest.approx([0.2, 0.8], abs=0.08)  # 0.27 and 0.74 with or without the log twins
    assert np.max(np.abs(with_endings - everything)) < 0.02
    assert np.max(np.abs(with_endings - everything)) < np.max(np.abs(fates_only - everything))


def test_without_enough_answers_the_model_is_the_stay_regression_with_the_catalog_s_acceptance():
    decisions, calls = _calls(3000)
    probe = [_row(random.Random(i)) for i in range(50)]
    for given in ((), calls[:40]):  # no calls, or fewer than 50 answers among them
        model = _fit(decisions, given, use_calls=bool(given))
        assert model.durable is None and model.leaver is None and model.gift is None
        assert model.info["estimator"] == "direct" and "prior acceptance" in model.description
        _, _, p_accept = model.predict_arrays(probe, ["price"] * 50, [GIFT, SAVER])
        np.testing.assert_array_equal(p_accept, [[GIFT.prior_acceptance, SAVER.prior_acceptance]] * 50)


def test_the_nightly_input_holds_every_call_but_the_hold_out_with_fates_only_where_known():
    at = datetime(2026, 1, 5, tzinfo=UTC)
    row = {"tenure_months": 12.0}
    data = OfferData(
        decisions=[
            OfferExample(row, at, "price", "DISC", 0.5, True, "DISC", 1),
            OfferExample(row, at, "price", None, 0.25, False, None, 2, stayed_at_call=False),
            OfferExample(row, at, "moving", "PAUSE", 0.5, True, None, 3),
        ],
        presentations=[
            OfferPresentation(row, "price", "CREDIT", False, False, at, 1),
            OfferPresentation(row, "price", "DISC", True, True, at, 1),
            OfferPresentation(row, "moving", "PAUSE", False, False, at, 3),
            OfferPresentation(row, "content", "FILM", True, False, at, 4),  # too recent for a fate
            OfferPresentation(row, "price", "DISC", False, False, at, 7),  # no decision on record
        ],
        recent=[
            RecentCall(row, "content", None, 4),
            RecentCall(row, "not_using", True, 5),  # no offer, stayed: says who stays
            RecentCall(row, "other", None, 6),  # no offer, still open: says nothing
        ],
    )
    calls = {(c.reason, c.answers): c for c in answered_calls(data, leave_out={3})}
    assert set(calls) == {
        ("price", (Answer("CREDIT", False), Answer("DISC", True))),
        ("price", ()),
        ("content", (Answer("FILM", True),)),
        ("not_using", ()),
        ("price", (Answer("DISC", False),)),
    }
    assert calls[("price", ())].stayed is False and calls[("price", ())].propensity == 0.25
    assert calls[("price", ())].stayed_at_call is False
    assert calls[("content", (Answer("FILM", True),))].stayed is None
    assert calls[("not_using", ())].stayed is None and calls[("not_using", ())].stayed_at_call is True


def test_only_a_stay_or_a_cancellation_says_which_kind_of_caller_rang():
    assert ending_of("saved_without_offer") is True
    assert ending_of("cancelled") is False
    for disposition in ("saved_with_offer", "downgraded", "callback", "escalated", None):
        assert ending_of(disposition) is None


def test_the_joint_likelihood_s_gradient_matches_finite_differences(monkeypatch: pytest.MonkeyPatch):
    from retention_desk.ml import offer_joint

    seen = {}
    minimize = offer_joint.optimize.minimize

    def spy(fun, x0, **kwargs):
        seen["loss"], seen["start"] = fun, x0
        return minimize(fun, x0, **kwargs)

    monkeypatch.setattr(offer_joint.optimize, "minimize", spy)
    decisions, calls = _calls(800, seed=4, endings=True)
    _fit(decisions, calls)
    theta = seen["start"] + np.random.default_rng(0).normal(0, 0.3, len(seen["start"]))
    _, gradient = seen["loss"](theta)
    step = 1e-6
    numeric = np.array(
        [(seen["loss"](theta + e)[0] - seen["loss"](theta - e)[0]) / (2 * step) for e in np.eye(len(theta)) * step]
    )
    assert np.max(np.abs(numeric - gradient)) < 1e-4 * max(1.0, np.max(np.abs(gradient)))


def test_the_stay_part_draws_a_share_that_rises_steeply_over_the_first_months_and_then_levels_off():
    """The share who would stay anyway climbs fast through a subscriber's first months and hardly at all after two
    years (as churn by tenure does): each count-like number has a log twin in the stay part, so a linear fit can
    draw that bend."""
    rng = random.Random(8)

    def share(tenure: float) -> float:
        return float(_sigmoid(np.array(-3.0 + 1.5 * np.log1p(tenure))))

    decisions, calls = [], []
    for _ in range(6000):
        row = _row(rng, tenure_months=rng.uniform(1, 120))
        stays_anyway = rng.random() < share(row["tenure_months"])
        action = rng.choice([None, GIFT.code, SAVER.code])
        yes = action is not None and rng.random() < (0.3 if stays_anyway else 0.2)
        answers = (Answer(action, yes),) if action else ()
        calls.append(CallAnswers(row, "price", answers, stays_anyway or yes, 1 / 3, None if yes else stays_anyway))
        decisions.append((row, action, stays_anyway or yes))
    model = _fit(decisions, calls)
    assert model.stay is not None
    tenures = [2.0, 6.0, 24.0, 100.0]
    probe = [_row(random.Random(i), tenure_months=t) for i, t in enumerate(tenures)]
    got = _sigmoid(model.stay.base(model.encode(probe, ["price"] * len(probe))))
    assert got == pytest.approx([share(t) for t in tenures], abs=0.07)
