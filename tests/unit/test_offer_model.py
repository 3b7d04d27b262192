"""The offer-response model learns planted effects, corrects a biased logging policy, and falls back to priors.

Without answers to learn from, the fit is the stay regression alone (the joint model's fallback): these planted
worlds log decisions and fates only."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import joblib
import numpy as np
import pytest

from retention_desk.ml.offer_fit import FitOptions, fit_offer_model, stay_weights
from retention_desk.ml.offer_model import DEFAULT_STAY_NONE, PRIOR_KEEP_SHARE, OfferResponseModel, prior_offer_model


@dataclass(frozen=True)
class Spec:
    code: str
    kind: str
    prior_acceptance: float = 0.2


A = Spec("DISC", "percent_discount", 0.3)
B = Spec("CREDIT", "bill_credit", 0.2)
KINDS = {A.code: A.kind, B.code: B.kind}
BASE = 0.3


def _row(rng: random.Random, **extra: object) -> dict:
    return {
        "tenure_months": rng.uniform(1, 60),
        "monthly_charge": rng.uniform(300, 900),
        "contract_type": rng.choice(["month_to_month", "one_year"]),
        "segment": rng.choice(["single", "family"]),
        **extra,
    }


def _planted(n: int = 6000, seed: int = 1):
    """Uniform logging over none / A / B; A keeps 25 points more price callers, nobody moving; B 5 points more."""
    rng = random.Random(seed)
    rows, reasons, actions, stayed = [], [], [], []
    for _ in range(n):
        reason = rng.choice(["price", "moving"])
        action = rng.choice([None, A.code, B.code])
        uplift = {None: 0.0, A.code: 0.25 if reason == "price" else 0.0, B.code: 0.05}[action]
        rows.append(_row(rng))
        reasons.append(reason)
        actions.append(action)
        stayed.append(rng.random() < BASE + uplift)
    return rows, reasons, actions, [1 / 3] * n, stayed


def _fit(rows, reasons, actions, propensities, stayed, **options) -> OfferResponseModel:
    return fit_offer_model(
        rows=rows,
        reasons=reasons,
        actions=actions,
        propensities=propensities,
        stayed=stayed,
        kinds=KINDS,
        options=FitOptions(**options),
    )


def _uplift(model: OfferResponseModel, rows, reasons, offer: Spec) -> float:
    p_none, p_stay, _ = model.predict_arrays(rows, reasons, [offer])
    return float(np.mean(p_stay[:, 0] - p_none))


def test_the_model_recovers_a_planted_uplift_by_offer_and_reason():
    rows, reasons, actions, props, stayed = _planted()
    model = _fit(rows, reasons, actions, props, stayed)
    assert model.info["estimator"] == "direct" and model.durable is None
    probe = [_row(random.Random(i)) for i in range(200)]
    price, moving = ["price"] * 200, ["moving"] * 200
    assert _uplift(model, probe, price, A) == pytest.approx(0.25, abs=0.05)
    assert _uplift(model, probe, moving, A) == pytest.approx(0.0, abs=0.05)
    assert _uplift(model, probe, price, B) == pytest.approx(0.05, abs=0.05)
    p_none, _, _ = model.predict_arrays(probe, price, [A])
    assert float(p_none.mean()) == pytest.approx(BASE, abs=0.04)


def test_inverse_propensity_weighting_corrects_a_biased_logging_policy_where_an_unweighted_fit_does_not():
    """Truth: the offer keeps 40 points more long-standing callers and no new ones. The logging policy gives it
    mostly to long-standing callers. The model has no offer × tenure term, so it learns one average effect: the
    weighted fit averages over everyone (20 points), the unweighted one over whom the offer happened to reach."""
    rng = random.Random(7)
    rows, reasons, actions, props, stayed = [], [], [], [], []
    for _ in range(8000):
        row = _row(rng)
        loyal = row["tenure_months"] > 30
        p_offer = 0.9 if loyal else 0.1
        offered = rng.random() < p_offer
        rows.append(row)
        reasons.append("price")
        actions.append(A.code if offered else None)
        props.append(p_offer if offered else 1 - p_offer)
        stayed.append(rng.random() < BASE + (0.4 if offered and loyal else 0.0))
    probe = [_row(random.Random(i)) for i in range(400)]
    weighted = _uplift(_fit(rows, reasons, actions, props, stayed), probe, ["price"] * 400, A)
    unweighted = _uplift(_fit(rows, reasons, actions, props, stayed, weighted=False), probe, ["price"] * 400, A)
    assert abs(weighted - 0.2) < 0.06
    assert abs(unweighted - 0.2) > abs(weighted - 0.2) + 0.05


def test_an_unseen_offer_code_is_predicted_at_its_kind_and_an_unseen_kind_from_the_catalog_prior():
    rows, reasons, actions, props, stayed = _planted(n=3000)
    model = _fit(rows, reasons, actions, props, stayed)
    probe = [_row(random.Random(i)) for i in range(50)]
    twin = Spec("DISC_NEW", A.kind, 0.3)
    stranger = Spec("PAUSE", "pause", 0.4)
    p_none, p_stay, p_accept = model.predict_arrays(probe, ["price"] * 50, [A, twin, stranger])
    assert np.all(np.abs(p_stay[:, 1] - p_none) > 0.1)  # kind-level effect, not nothing
    expected = p_none + (1 - p_none) * 0.4 * PRIOR_KEEP_SHARE
    np.testing.assert_allclose(p_stay[:, 2], expected)
    np.testing.assert_allclose(p_accept, [[0.3, 0.3, 0.4]] * 50)  # no answers were given: the catalog priors


def test_protected_attributes_never_change_a_prediction():
    rows, reasons, actions, props, stayed = _planted(n=2000)
    rng = random.Random(3)
    tagged = [{**r, "birth_year": float(rng.randint(1940, 2000)), "x_gender": rng.choice("MF")} for r in rows]
    model = _fit(tagged, reasons, actions, props, stayed)
    assert not {"birth_year", "x_gender"} & {*model.numeric, *model.categorical}
    probe = [_row(random.Random(i)) for i in range(20)]
    young = [{**r, "birth_year": 2001.0, "x_gender": "F"} for r in probe]
    old = [{**r, "birth_year": 1941.0, "x_gender": "M"} for r in probe]
    for a, b in zip(
        model.predict_arrays(young, ["price"] * 20, [A, B]),
        model.predict_arrays(old, ["price"] * 20, [A, B]),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_the_prior_model_follows_the_documented_formula_with_and_without_a_churn_risk():
    prior = prior_offer_model()
    with_risk, without = prior.predict([{}, {}], ["price", None], [A, B], risks=[0.6, None])
    assert with_risk.p_stay_none == pytest.approx(0.4)
    assert with_risk.p_stay[A.code] == pytest.approx(0.4 + 0.6 * 0.3 * PRIOR_KEEP_SHARE)
    assert with_risk.p_accept == {A.code: 0.3, B.code: 0.2}
    assert without.p_stay_none == pytest.approx(DEFAULT_STAY_NONE)


def test_a_screen_of_many_callers_and_offers_is_one_batch_and_the_model_survives_joblib():
    rows, reasons, actions, props, stayed = _planted(n=2000)
    model = _fit(rows, reasons, actions, props, stayed)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    loaded = joblib.load(io.BytesIO(buffer.getvalue()))
    probe = [_row(random.Random(i)) for i in range(200)]
    offers = [Spec(f"O{i}", ["percent_discount", "bill_credit", "pause"][i % 3], 0.1 + i / 100) for i in range(14)]
    got = loaded.predict(probe, ["price"] * 200, offers)
    assert len(got) == 200 and all(len(p.p_stay) == 14 == len(p.p_accept) for p in got)
    assert got[0] == model.predict(probe[:1], ["price"], offers)[0]


def test_stay_weights_are_clipped_and_average_one():
    w = stay_weights([0.5, 0.001, 0.25])
    assert w.mean() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(50)  # 1/0.01 against 1/0.5: clipped at the floor


def test_rows_reasons_and_risks_of_different_lengths_are_refused():
    with pytest.raises(ValueError):
        prior_offer_model().predict([{}, {}], ["price"], [A])
