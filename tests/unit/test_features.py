"""Churn features see only the past, carry imported extras, and leave protected attributes out."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from retention_desk.ml.features import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    AccountSnapshot,
    BillItem,
    OfferItem,
    ServiceItem,
    TicketItem,
    build_features,
    feature_columns,
    rows_to_frame,
    running_term_end,
)

AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _snapshot(**changes) -> AccountSnapshot:
    base = dict(
        account_id=1,
        contract_type="one_year",
        contract_end=date(2026, 12, 15),
        customer_since=date(2024, 6, 15),
        monthly_charge=499.0,
        payment_method="invoice",
        segment="family",
        region="Oslo",
        plan_code="TV-L",
        birth_year=1961,
    )
    base.update(changes)
    return AccountSnapshot(**base)


def _monthly_bills(first: date, months: int, amount: float) -> list[BillItem]:
    bills = []
    for i in range(months):
        start = date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
        bills.append(BillItem(start, amount, start + timedelta(days=20), start + timedelta(days=15)))
    return bills


def test_bills_after_the_as_of_date_do_not_change_the_features():
    past = _monthly_bills(date(2025, 6, 1), 12, 400.0)
    future = [BillItem(date(2026, 7, 1), 900.0, date(2026, 7, 21), None)]
    with_future = build_features(_snapshot(bills=past + future), AS_OF)
    without = build_features(_snapshot(bills=past), AS_OF)
    assert with_future == without
    assert with_future["bills_unpaid"] == 0.0


def test_tickets_and_offers_after_the_call_are_invisible():
    before = TicketItem("outage", AS_OF - timedelta(days=10), 5.0)
    after = TicketItem("outage", AS_OF + timedelta(minutes=5), 50.0)
    offer_after = OfferItem("DISC20", "percent_discount", AS_OF + timedelta(minutes=3), "accepted")
    row = build_features(_snapshot(tickets=[before, after], offers=[offer_after]), AS_OF)
    assert row["outages_30d"] == 1.0
    assert row["outage_hours_90d"] == 5.0
    assert row["offers_before"] == 0.0
    assert math.isnan(row["days_since_last_offer"])


def test_bill_change_compares_the_newest_bill_with_one_three_and_twelve_months_earlier():
    bills = _monthly_bills(date(2025, 5, 1), 13, 400.0)
    bills[-1] = BillItem(bills[-1].period_start, 500.0)
    row = build_features(_snapshot(bills=bills), AS_OF)
    assert row["bill_change_3m"] == 1.25
    assert row["bill_change_12m"] == 1.25


def test_services_count_only_those_active_on_the_day():
    services = [
        ServiceItem("tv", started_on=date(2024, 6, 15)),
        ServiceItem("broadband", started_on=date(2024, 6, 15), ended_on=date(2026, 1, 1)),
        ServiceItem("premium", started_on=date(2026, 7, 1)),
        ServiceItem("premium", started_on=date(2025, 1, 1)),
    ]
    row = build_features(_snapshot(services=services), AS_OF)
    assert (row["n_services"], row["has_tv"], row["has_broadband"], row["n_premium_channels"]) == (2, 1, 0, 1)


def test_a_service_that_ends_or_starts_on_the_call_day_is_seen_as_it_was_that_morning():
    services = [
        ServiceItem("tv", started_on=date(2024, 6, 15), ended_on=AS_OF.date()),
        ServiceItem("broadband", started_on=AS_OF.date()),
    ]
    row = build_features(_snapshot(services=services), AS_OF)
    assert (row["has_tv"], row["has_broadband"]) == (1.0, 0.0)


def test_imported_extra_columns_become_features():
    row = build_features(_snapshot(extra={"data_gb": 12, "streaming": True, "churn_segment": "B"}), AS_OF)
    assert row["x_data_gb"] == 12.0
    assert row["x_streaming"] == 1.0
    assert row["x_churn_segment"] == "B"
    numeric, categorical = feature_columns([row])
    assert "x_data_gb" in numeric and "x_churn_segment" in categorical


def test_protected_attributes_never_become_features():
    extra = {"gender": "F", "Age": 70, "SeniorCitizen": 1, "birth_year": 1961, "data_gb": 3}
    row = build_features(_snapshot(extra=extra), AS_OF)
    assert [name for name in row if name.startswith("x_")] == ["x_data_gb"]
    assert not any("birth" in name for name in row)
    assert 1961.0 not in row.values()


def test_every_fixed_feature_is_present_and_typed():
    row = build_features(_snapshot(), AS_OF)
    assert all(isinstance(row[name], float) for name in NUMERIC_FEATURES)
    assert all(isinstance(row[name], str) for name in CATEGORICAL_FEATURES)
    assert round(row["tenure_months"]) == 24 and round(row["months_to_contract_end"]) == 6


def test_serving_sees_the_stored_contract_end_unchanged():
    # The account row holds the running term's end: scored today, the feature is the plain distance to it.
    for contract, end in (
        ("one_year", date(2026, 12, 15)),
        ("one_year", date(2027, 6, 15)),
        ("two_year", date(2028, 6, 14)),
    ):
        row = build_features(_snapshot(contract_type=contract, contract_end=end), AS_OF)
        assert row["months_to_contract_end"] == (end - AS_OF.date()).days / 30.4375


def test_a_past_call_sees_the_end_of_the_term_running_then_not_of_its_renewal():
    then = datetime(2025, 9, 15, 12, 0, tzinfo=UTC)  # the one-year term then running ended 2025-12-15
    row = build_features(_snapshot(contract_type="one_year", contract_end=date(2026, 12, 15)), then)
    assert row["months_to_contract_end"] == (date(2025, 12, 15) - then.date()).days / 30.4375
    assert running_term_end("two_year", date(2027, 3, 1), date(2024, 6, 1)) == date(2025, 3, 1)


def test_the_running_term_ends_after_the_day_and_at_most_one_term_later():
    for day in (date(2023, 2, 28), date(2024, 12, 14), date(2025, 12, 15), date(2025, 12, 16), date(2026, 12, 14)):
        end = running_term_end("one_year", date(2026, 12, 15), day)
        assert day < end <= date(day.year + 1, day.month, day.day) and end.day == 15 and end.month == 12


def test_contract_ends_that_are_not_a_renewing_term_stay_as_stored():
    day = date(2025, 1, 10)
    assert running_term_end("month_to_month", date(2026, 12, 15), day) == date(2026, 12, 15)
    assert running_term_end("One year", date(2026, 12, 15), day) == date(2026, 12, 15)  # unmapped import value
    assert running_term_end(None, date(2026, 12, 15), day) == date(2026, 12, 15)
    assert running_term_end("one_year", date(2024, 12, 15), day) == date(2024, 12, 15)  # ended, not renewed
    assert running_term_end("one_year", None, day) is None


def test_an_imported_term_contract_without_an_end_date_has_no_months_to_its_end():
    row = build_features(_snapshot(contract_type="two_year", contract_end=None), AS_OF)
    assert math.isnan(row["months_to_contract_end"])


def test_stepping_back_a_term_from_a_leap_day_lands_on_the_last_of_february():
    assert running_term_end("one_year", date(2028, 2, 29), date(2026, 3, 1)) == date(2027, 2, 28)
    assert running_term_end("one_year", date(9999, 6, 30), date(2026, 7, 1)) == date(2027, 6, 30)  # no long loop


def test_a_frame_has_exactly_the_requested_columns_with_missing_values_filled():
    rows = [build_features(_snapshot(payment_method=None), AS_OF), {"monthly_charge": 3.0}]
    numeric, categorical = feature_columns(rows[:1])
    frame = rows_to_frame(rows, [*numeric, "x_new"], categorical)
    assert list(frame.columns) == [*numeric, "x_new", *categorical]
    assert frame.loc[0, "payment_method"] == "missing"
    assert frame.loc[1, "contract_type"] == "missing" and math.isnan(frame.loc[1, "tenure_months"])


def test_a_price_rise_shows_as_the_months_since_it_and_in_the_year_long_change():
    from datetime import UTC, date, datetime

    from retention_desk.ml.features import AccountSnapshot, BillItem, build_features

    bills = [BillItem(date(2026, m, 1), 500.0 if m < 3 else 590.0) for m in range(1, 10)]
    row = build_features(AccountSnapshot(account_id=1, bills=bills), datetime(2026, 9, 15, tzinfo=UTC))
    assert 6 < row["months_since_bill_rise"] < 7  # the March bill was the first at the new price
    assert row["bill_change_12m"] == 590.0 / 500.0  # under a year of bills: compared with the oldest
    assert row["bill_change_3m"] == 1.0


def test_without_a_rise_the_months_since_one_are_unknown():
    import math
    from datetime import UTC, date, datetime

    from retention_desk.ml.features import AccountSnapshot, BillItem, build_features

    bills = [BillItem(date(2026, m, 1), 500.0) for m in range(1, 10)]
    row = build_features(AccountSnapshot(account_id=1, bills=bills), datetime(2026, 9, 15, tzinfo=UTC))
    assert math.isnan(row["months_since_bill_rise"])
