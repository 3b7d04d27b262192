"""Mapping files and row conversion: what a billing system's CSV cells become on an account."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from retention_desk.ml.features import extra_features
from retention_desk.services.importing.fields import parse_number
from retention_desk.services.importing.mapping import ImportFailed, MappingError, load_mapping, parse_mapping
from retention_desk.services.importing.rows import AccountRow, BadRow, RowConverter, extra_value, snake_case

TODAY = date(2026, 11, 26)
SEED_MAPPINGS = Path(__file__).parents[2] / "seed" / "mappings"


def converter(mapping: dict, header: list[str], stem: str = "export") -> RowConverter:
    return RowConverter(parse_mapping(mapping), header, file_stem=stem, today=TODAY)


def converted(mapping: dict, header: list[str], cells: list[str], line: int = 2) -> AccountRow:
    result = converter(mapping, header).convert(line, cells)
    assert isinstance(result, AccountRow), result
    return result


def refused(mapping: dict, header: list[str], cells: list[str], line: int = 2) -> BadRow:
    result = converter(mapping, header).convert(line, cells)
    assert isinstance(result, BadRow), result
    return result


BY_ID = {"account": {"account_no": "id"}}


@pytest.mark.parametrize("cell", ["True", "true", "TRUE", "Yes", "yes", "YES"])
def test_yes_words_become_true_in_extra(cell: str) -> None:
    assert converted(BY_ID, ["id", "Intl plan"], ["A1", cell]).extra == {"intl_plan": True}


@pytest.mark.parametrize("cell", ["False", "false", "No", "no", "NO"])
def test_no_words_become_false_in_extra(cell: str) -> None:
    assert converted(BY_ID, ["id", "Intl plan"], ["A1", cell]).extra == {"intl_plan": False}


@pytest.mark.parametrize(("cell", "expected"), [("1", True), ("0", False), ("Yes", True), ("n", False)])
def test_a_column_declared_boolean_also_reads_one_and_zero(cell: str, expected: bool) -> None:
    mapping = {**BY_ID, "extra": {"booleans": ["Complains"]}}
    assert converted(mapping, ["id", "Complains"], ["A1", cell]).extra == {"complains": expected}


def test_undeclared_one_and_zero_stay_numbers_so_count_columns_keep_their_meaning() -> None:
    row = converted(BY_ID, ["id", "Service calls"], ["A1", "1"])
    assert row.extra == {"service_calls": 1} and type(row.extra["service_calls"]) is int


def test_numbers_become_numbers_and_codes_with_leading_zeros_stay_text() -> None:
    header = ["id", "Minutes", "Calls", "Postcode", "Rate", "Note"]
    row = converted(BY_ID, header, ["A1", "184.5", "97", "0150", "-0.25", "12 months"])
    assert row.extra == {"minutes": 184.5, "calls": 97, "postcode": "0150", "rate": -0.25, "note": "12 months"}


@pytest.mark.parametrize("text", ["nan", "inf", "1e999", "1_000", "٣", " ", "1.2.3"])
def test_things_python_would_read_as_numbers_but_a_billing_file_means_as_text_are_not_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_decimal_commas_are_read_when_the_mapping_says_so() -> None:
    mapping = {**BY_ID, "csv": {"delimiter": ";", "decimal": ","}, "extra": {"numbers": ["Minutes"]}}
    assert converted(mapping, ["id", "Minutes"], ["A1", "184,5"]).extra == {"minutes": 184.5}


def test_empty_cells_are_missing_values() -> None:
    mapping = {**BY_ID, "extra": {"numbers": ["Total charges"]}}
    row = converted(mapping, ["id", "Total charges", "Note"], ["A1", " ", ""])
    assert row.extra == {"total_charges": None, "note": None}


def test_extra_names_are_readable_identifiers() -> None:
    assert snake_case("Total day minutes") == "total_day_minutes"
    assert snake_case("Call  Failure") == "call_failure"
    assert snake_case("MonthlyCharges") == "monthly_charges"
    assert snake_case("customerID") == "customer_id"
    assert snake_case("Månedspris (kr)") == "manedspris_kr"
    assert snake_case("3G usage") == "c_3g_usage"


def test_value_maps_translate_the_billing_systems_words() -> None:
    mapping = {
        "account": {"account_no": "id", "contract_type": "Contract", "monthly_charge": "Charge"},
        "values": {"contract_type": {"Month-to-month": "month_to_month", "Two year": "two_year"}},
    }
    row = converted(mapping, ["id", "Contract", "Charge"], ["A1", "Two year", "79.90"])
    assert row.fields["contract_type"] == "two_year"
    assert row.fields["monthly_charge"] == Decimal("79.90")


def test_an_unmapped_contract_word_names_the_line_the_column_and_the_fix() -> None:
    mapping = {"account": {"account_no": "id", "contract_type": "Contract"}}
    bad = refused(mapping, ["id", "Contract"], ["A1", "Forever"], line=17)
    assert bad.line == 17
    (problem,) = bad.problems
    assert problem.column == "Contract" and problem.value == "Forever"
    assert "[values.contract_type]" in problem.reason
    assert bad.describe().startswith("line 17: column 'Contract' ('Forever')")


def test_every_bad_cell_of_a_row_is_reported_at_once() -> None:
    mapping = {
        "account": {"account_no": "id", "monthly_charge": "Charge", "contract_end": "Ends"},
        "extra": {"numbers": ["Minutes"]},
        "label": {"column": "Churn", "true": ["True"], "false": ["False"]},
    }
    bad = refused(mapping, ["id", "Charge", "Ends", "Minutes", "Churn"], ["A1", "-5", "31/01/2026", "12x", "Maybe"])
    reasons = {p.column: p.reason for p in bad.problems}
    assert reasons == {
        "Charge": "is negative",
        "Ends": "is not a date written like 2026-01-31",
        "Minutes": "is not a number",
        "Churn": "is not a churn label the mapping knows (left: True; stayed: False)",
    }


def test_a_row_with_the_wrong_number_of_fields_is_bad() -> None:
    bad = refused(BY_ID, ["id", "a"], ["A1", "x", "y"], line=9)
    assert "has 3 fields where the header has 2" in bad.describe()


def test_the_churn_label_reads_its_spellings_without_regard_to_case_and_blank_is_unknown() -> None:
    mapping = {**BY_ID, "label": {"column": "Churn", "true": ["Yes"], "false": ["No"]}}
    assert converted(mapping, ["id", "Churn"], ["A1", "YES"]).churn_label is True
    assert converted(mapping, ["id", "Churn"], ["A1", "no"]).churn_label is False
    assert converted(mapping, ["id", "Churn"], ["A1", ""]).churn_label is None


def test_protected_columns_are_kept_for_measurement_but_never_become_features() -> None:
    mapping = {**BY_ID, "extra": {"booleans": ["SeniorCitizen"], "protected": ["gender", "SeniorCitizen"]}}
    row = converted(mapping, ["id", "gender", "SeniorCitizen", "Partner"], ["A1", "Female", "1", "Yes"])
    assert row.extra == {"partner": True, "_protected": {"gender": "Female", "senior_citizen": True}}
    assert extra_features(row.extra) == {"x_partner": 1.0}


def test_account_numbers_from_the_line_number_are_stable_and_name_the_file() -> None:
    mapping = {"account": {"account_no_from_line": "{file_stem}-{line:06d}"}}
    row = converter(mapping, ["State"], stem="churn-bigml-20").convert(42, ["KS"])
    assert isinstance(row, AccountRow) and row.account_no == "churn-bigml-20-000042"


def test_tenure_in_months_sets_the_customer_since_date() -> None:
    mapping = {"account": {"account_no": "id", "tenure_months": "tenure"}}
    row = converted(mapping, ["id", "tenure"], ["A1", "12"])
    assert row.fields["customer_since"] == TODAY - timedelta(days=round(12 * 30.4375))
    assert "tenure" not in row.extra


def test_defaults_fill_fields_the_file_does_not_have() -> None:
    mapping = {**BY_ID, "defaults": {"currency": "usd", "contract_type": "one_year"}}
    row = converted(mapping, ["id"], ["A1"])
    assert row.fields["currency"] == "USD" and row.fields["contract_type"] == "one_year"


def test_names_phone_and_email_get_their_search_keys() -> None:
    mapping = {
        "account": {
            "account_no": "id",
            "first_name": "First",
            "last_name": "Last",
            "phone": "Phone",
            "email": "Mail",
        }
    }
    row = converted(
        mapping, ["id", "First", "Last", "Phone", "Mail"], ["A1", "Kari", "Nordmann", "912 34 567", "K@X.no"]
    )
    assert row.fields["name_search"] == "kari nordmann" and row.fields["surname_search"] == "nordmann"
    assert row.fields["phone_normalised"] == "+4791234567"
    assert row.fields["email_normalised"] == "k@x.no"


def test_an_empty_account_number_is_a_bad_row() -> None:
    assert "needs an account number" in refused(BY_ID, ["id", "a"], ["", "x"]).describe()


@pytest.mark.parametrize(
    ("mapping", "key"),
    [
        ({"account": {}}, "account.account_no"),
        ({"account": {"account_no": "id", "colour": "c"}}, "account.colour"),
        ({"account": {"account_no": 3}}, "account.account_no"),
        ({"account": {"account_no_from_line": "X-{row}"}}, "account.account_no_from_line"),
        ({"account": {"account_no_from_line": "X-fixed"}}, "account.account_no_from_line"),
        ({**BY_ID, "csv": {"delimiter": ";;"}}, "csv.delimiter"),
        ({**BY_ID, "csv": {"encoding": "klingon"}}, "csv.encoding"),
        ({**BY_ID, "values": {"contract_type": {"Monthly": "monthly"}}}, "values.contract_type"),
        ({**BY_ID, "label": {"true": ["Yes"]}}, "label.column"),
        ({**BY_ID, "label": {"column": "c", "true": ["Yes"], "false": ["yes"]}}, "label.true"),
        ({**BY_ID, "defaults": {"monthly_charge": "cheap"}}, "defaults.monthly_charge"),
        ({**BY_ID, "extra": {"numbers": ["a"], "text": ["a"]}}, "extra.numbers"),
        ({**BY_ID, "extra": {"rename": {"A": "Bad Name"}}}, "extra.rename"),
        ({**BY_ID, "extras": {}}, "extras"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_key(mapping: dict, key: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(mapping, origin="m.toml")
    assert str(caught.value).startswith(f"m.toml: {key}")


def test_a_mapped_column_missing_from_the_header_is_named_with_its_key() -> None:
    mapping = {"account": {"account_no": "id", "tenure_months": "Subscription Length"}}
    with pytest.raises(MappingError, match=r"account.tenure_months names column 'Subscription Length'"):
        converter(mapping, ["id", "Subscription  Length"])


def test_two_columns_that_would_share_an_extra_name_are_refused() -> None:
    with pytest.raises(MappingError, match="both become the extra attribute 'total'"):
        converter(BY_ID, ["id", "Total", "total"])


def test_a_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(ImportFailed, match="twice"):
        converter(BY_ID, ["id", "a", "a"])


@pytest.mark.parametrize("name", ["orange-telecom-churn", "iranian-churn", "ibm-telco-churn"])
def test_the_shipped_mappings_load_by_name(name: str) -> None:
    assert load_mapping(name).origin == str(SEED_MAPPINGS / f"{name}.toml")


def test_a_missing_mapping_file_lists_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="shipped mappings: ibm-telco-churn, iranian-churn, orange-telecom-churn"):
        load_mapping(tmp_path / "nope.toml")


def test_extra_value_rules_in_one_place() -> None:
    assert extra_value(" Yes ") is True
    assert extra_value("1", kind="text") == "1"
    with pytest.raises(ValueError, match="not yes or no"):
        extra_value("maybe", kind="boolean")
