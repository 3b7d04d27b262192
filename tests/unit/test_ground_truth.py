"""The synthetic world's ground truth moves the way the documentation says it does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention_desk.synth import ground_truth as gt
from retention_desk.synth.history import shown_propensity

CALLER = {
    "contract_type": "one_year",
    "segment": "single",
    "tenure_months": 40.0,
    "price_rise_pct": 0.0,
    "days_since_rise": 999.0,
    "outages_90d": 0.0,
    "outage_hours_90d": 0.0,
    "tickets_30d": 0.0,
    "tickets_90d": 0.0,
    "competitor_pressure": 0.5,
    "late_bills_12m": 0.0,
    "tv_hours_per_week": 10.0,
    "data_gb_per_month": 60.0,
    "has_tv": 1.0,
}
DISCOUNT = {"code": "DISC20", "kind": "percent_discount", "params": {"percent": 20}}
PREMIUM = {"code": "SPORT3", "kind": "premium_channel", "params": {"channel": "sport", "months": 3}}
PAUSE = {"code": "PAUSE3", "kind": "pause", "params": {"months": 3}}
OFFERS = [DISCOUNT, PREMIUM, PAUSE, {"code": "DOWN", "kind": "downgrade", "params": {}}]


def churn(**changes: object) -> float:
    features = {
        k: np.array([v], dtype=object if isinstance(v, str) else float) for k, v in {**CALLER, **changes}.items()
    }
    return float(gt.churn_probability(features)[0])


def test_month_to_month_callers_leave_more_often_than_two_year_callers() -> None:
    assert churn(contract_type="month_to_month") > churn(contract_type="one_year") > churn(contract_type="two_year")


@pytest.mark.parametrize(
    ("driver", "value"),
    [
        ("price_rise_pct", 18.0),
        ("outages_90d", 2.0),
        ("tickets_30d", 2.0),
        ("competitor_pressure", 0.9),
        ("late_bills_12m", 3.0),
    ],
)
def test_each_stated_driver_raises_the_probability_of_leaving(driver: str, value: float) -> None:
    assert churn(**{driver: value}) > churn()


def test_long_standing_subscribers_leave_less_often_than_new_ones() -> None:
    assert churn(tenure_months=150.0) < churn(tenure_months=4.0)


def test_a_bigger_price_rise_hurts_more() -> None:
    assert churn(price_rise_pct=18.0, days_since_rise=30.0) > churn(price_rise_pct=6.0, days_since_rise=30.0)


def test_a_price_driven_caller_is_likelier_to_stay_with_a_discount_than_with_a_premium_channel() -> None:
    assert gt.stay_probability(CALLER, "price", DISCOUNT) > gt.stay_probability(CALLER, "price", PREMIUM)


def test_a_mover_answers_a_pause_better_than_a_discount() -> None:
    assert gt.stay_probability(CALLER, "moving", PAUSE) > gt.stay_probability(CALLER, "moving", DISCOUNT)


def test_heavy_tv_viewers_missing_content_answer_premium_channels() -> None:
    heavy = {**CALLER, "tv_hours_per_week": 30.0}
    light = {**CALLER, "tv_hours_per_week": 2.0}
    assert gt.stay_probability(heavy, "content", PREMIUM) > gt.stay_probability(light, "content", PREMIUM)
    assert gt.stay_probability(heavy, "content", PREMIUM) > gt.stay_probability(heavy, "content", DISCOUNT)


@pytest.mark.parametrize("reason", gt.REASONS)
def test_an_offer_never_makes_staying_less_likely(reason: str) -> None:
    without = gt.stay_probability(CALLER, reason, None)
    for offer in OFFERS:
        assert gt.stay_probability(CALLER, reason, offer) >= without


@pytest.mark.parametrize("reason", sorted(gt.UNSAVABLE_SHARE))
def test_unsavable_callers_stay_unsavable_whatever_is_offered(reason: str) -> None:
    assert gt.stay_probability(CALLER, reason, None, unsavable=True) == 0.0
    for offer in OFFERS:
        assert gt.stay_probability(CALLER, reason, offer, unsavable=True) == 0.0


def test_only_some_reasons_have_unsavable_callers() -> None:
    rng = np.random.default_rng(1)
    reasons = np.array(["price"] * 2000 + ["moving"] * 2000, dtype=object)
    unsavable = gt.draw_unsavable(reasons, rng)
    assert not unsavable[:2000].any()
    assert 0.2 < unsavable[2000:].mean() < 0.4


def test_callers_with_outages_more_often_name_service_quality() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    base = {k: np.full(n, v, dtype=object if isinstance(v, str) else float) for k, v in CALLER.items()}
    troubled = {**base, "outages_90d": np.full(n, 3.0)}
    calm_share = np.mean(gt.draw_cancel_reason(base, rng) == "service_quality")
    troubled_share = np.mean(gt.draw_cancel_reason(troubled, rng) == "service_quality")
    assert troubled_share > calm_share + 0.1


def test_reasons_drawn_are_the_catalog_reason_codes() -> None:
    rng = np.random.default_rng(3)
    n = 500
    features = {k: np.full(n, v, dtype=object if isinstance(v, str) else float) for k, v in CALLER.items()}
    assert set(gt.draw_cancel_reason(features, rng)) <= set(gt.REASONS)


def test_saves_with_a_loyalty_bonus_last_longer_than_saves_with_a_one_off_credit() -> None:
    assert gt.durable_save_probability(CALLER, "price", "loyalty_bonus") > gt.durable_save_probability(
        CALLER, "price", "bill_credit"
    )


def test_call_probability_averages_the_requested_share_and_rises_with_hazard() -> None:
    logits = np.linspace(-4, 4, 1001)
    p = gt.call_probability(logits, 0.25)
    assert abs(p.mean() - 0.25) < 0.01
    assert np.all(np.diff(p) > 0)


def test_the_historical_policy_records_honest_show_probabilities() -> None:
    # k ~ uniform{0,1,2,3} offers out of 5 eligible: each is shown with probability (0+1+2+3)/4/5.
    assert shown_propensity(np.array([5]))[0] == pytest.approx(0.3)
    assert shown_propensity(np.array([1]))[0] == pytest.approx(0.75)
    p = shown_propensity(np.arange(1, 15))
    assert np.all((p > 0) & (p <= 1))


@settings(max_examples=60, deadline=None)
@given(
    contract=st.sampled_from(["month_to_month", "one_year", "two_year"]),
    segment=st.sampled_from(["family", "young_adult", "single", "senior", "student"]),
    tenure=st.floats(0, 300),
    rise=st.floats(0, 40),
    outages=st.integers(0, 10),
    tickets=st.integers(0, 10),
    pressure=st.floats(0, 1),
    reason=st.sampled_from(gt.REASONS),
    offer=st.sampled_from(OFFERS),
)
def test_probabilities_stay_between_zero_and_one_for_any_caller(
    contract: str,
    segment: str,
    tenure: float,
    rise: float,
    outages: int,
    tickets: int,
    pressure: float,
    reason: str,
    offer: dict,
) -> None:
    caller = {
        **CALLER,
        "contract_type": contract,
        "segment": segment,
        "tenure_months": tenure,
        "price_rise_pct": rise,
        "outages_90d": float(outages),
        "tickets_30d": float(tickets),
        "competitor_pressure": pressure,
    }
    for value in (
        gt.stay_probability(caller, reason, None),
        gt.stay_probability(caller, reason, offer),
        gt.durable_save_probability(caller, reason, offer["kind"]),
    ):
        assert 0.0 <= value <= 1.0
