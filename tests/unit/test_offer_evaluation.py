"""The nightly hold-out evaluation judges the policy the desk would run: calls planned up to the configured offer
limit, not a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from retention_desk.domain.catalog import OfferSpec
from retention_desk.ml.offer_data import OfferExample
from retention_desk.ml.offer_evaluation import score_decisions
from retention_desk.offers.value import customer_value
from tests.unit.test_offer_joint import GIFT, SAVER, _calls, _fit

OFFERS = {
    GIFT.code: OfferSpec(GIFT.code, "Free channel", GIFT.kind, "one_off", Decimal("200")),
    SAVER.code: OfferSpec(SAVER.code, "Half price", SAVER.kind, "one_off", Decimal("400")),
}
MARGIN = 0.35


@pytest.fixture(scope="module")
def model_and_examples():
    decisions, calls = _calls(n=4000, seed=5)
    model = _fit(decisions, calls)
    when = datetime(2026, 1, 5, tzinfo=UTC)
    choices = {None: 1 / 3, GIFT.code: 1 / 3, SAVER.code: 1 / 3}
    examples = [
        OfferExample(row, when, "price", action, 1 / 3, stayed, None, k, choices)
        for k, (row, action, stayed) in enumerate(decisions[:300])
    ]
    return model, examples


def test_a_call_limited_to_one_offer_is_valued_by_its_first_offer_alone(model_and_examples):
    model, examples = model_and_examples
    one = score_decisions(model, examples, OFFERS, MARGIN, max_offers=1)
    got = model.predict([e.features for e in examples], [e.reason for e in examples], list(OFFERS.values()))
    for e, prediction, chosen, q in zip(examples, got, one.chosen, one.q_chosen, strict=True):
        value = customer_value(float(e.features["monthly_charge"]), float(e.features["tenure_months"]), MARGIN)
        alone = {None: 0.0}
        for code, offer in OFFERS.items():
            cost = float(offer.cost_amount)
            alone[code] = (prediction.p_stay[code] - prediction.p_stay_none) * value - prediction.p_accept[code] * cost
        best = max(alone, key=alone.__getitem__)
        assert chosen == best
        assert q == pytest.approx(prediction.p_stay_none * value + alone[best], rel=1e-6)


def test_the_offer_limit_reaches_the_evaluation(model_and_examples):
    """A second offer for those who decline the first is worth something to some callers, so the values (and here
    some decisions) differ between a limit of one and of two."""
    model, examples = model_and_examples
    one = score_decisions(model, examples, OFFERS, MARGIN, max_offers=1)
    two = score_decisions(model, examples, OFFERS, MARGIN, max_offers=2)
    assert np.all(two.q_chosen >= one.q_chosen - 1e-6)
    assert np.mean(two.q_chosen - one.q_chosen) > 1.0
    assert one.chosen != two.chosen
