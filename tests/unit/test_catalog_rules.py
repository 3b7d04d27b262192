"""Catalog entries that would mislead the eligibility rules or break a database write are refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from retention_desk.services.catalog.files import CatalogError, parse_offers


def entry(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "code": "DISC10",
        "name": "10% off",
        "kind": "percent_discount",
        "params": {"percent": 10},
        "cost_model": "monthly",
        "cost_amount": 70,
        "duration_months": 6,
    }
    item.update(changes)
    return item


def refused(match: str, **changes: Any) -> None:
    with pytest.raises(CatalogError, match=match):
        parse_offers({"offers": [entry(**changes)]})


def test_a_valid_entry_with_every_rule_loads() -> None:
    rules = {
        "plans": ["TRIO"],
        "contract_types": ["one_year"],
        "regions": ["Oslo"],
        "segments": ["family"],
        "exclude_if_has": ["premium:sport", "tv:TV_MAX", "mobile"],
        "min_tenure_months": 6,
        "max_tenure_months": 120.5,
        "min_monthly_charge": 300,
        "max_monthly_charge": 3000,
    }
    [offer] = parse_offers({"offers": [entry(rules=rules, monthly_budget=250000, max_per_year=2, cooldown_days=90)]})
    assert offer.rules == rules


def test_an_empty_list_rule_is_refused_rather_than_excluding_everyone() -> None:
    refused(r"offer DISC10: field 'rules.plans' must be a list of one or more texts", rules={"plans": []})


def test_a_range_whose_minimum_is_above_its_maximum_is_refused() -> None:
    refused(
        r"offer DISC10: field 'rules.min_tenure_months' is above rules.max_tenure_months",
        rules={"min_tenure_months": 24, "max_tenure_months": 12},
    )
    refused(
        r"field 'rules.min_monthly_charge' is above rules.max_monthly_charge",
        rules={"min_monthly_charge": 900, "max_monthly_charge": 500},
    )


def test_an_exclusion_must_name_a_service_kind() -> None:
    refused(r"field 'rules.exclude_if_has' items are a service kind", rules={"exclude_if_has": ["netflix:basic"]})
    refused(r"field 'rules.exclude_if_has'", rules={"exclude_if_has": ["tv:"]})


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost_amount", float("inf")), ("cost_amount", float("nan")), ("monthly_budget", 1e13)],
)
def test_money_must_be_a_finite_amount_a_database_column_holds(field: str, value: float) -> None:
    refused(rf"offer DISC10: field '{field}' must be a non-negative number of at most", **{field: value})


def test_a_number_rule_must_be_finite() -> None:
    refused(
        r"field 'rules.min_monthly_charge' must be a non-negative number", rules={"min_monthly_charge": float("inf")}
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_months", 10_000), ("max_per_year", 2**40), ("cooldown_days", 100_000)],
)
def test_whole_numbers_have_sensible_upper_limits(field: str, value: int) -> None:
    refused(rf"offer DISC10: field '{field}' must be a whole number of at least", **{field: value})


def test_parameters_are_checked_by_meaning() -> None:
    refused(r"field 'params.percent' must be a number above 0 and at most 100", params={"percent": 150})
    refused(r"field 'params.months' must be a whole number of months", kind="pause", params={"months": 2.5})
    refused(r"field 'params.extra' must be a text, a number or true/false", params={"percent": 10, "extra": [1]})


def test_control_characters_in_names_are_refused() -> None:
    refused(r"field 'name' must not hold control characters", name="10%\x00 off")
