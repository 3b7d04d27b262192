"""find_accounts and get_account_view against real databases: every common way to name a caller."""

from __future__ import annotations

from datetime import date

import pytest

from retention_desk.services.accounts import find_accounts, get_account_view, tenure_months
from tests.web.sign_in_helpers import add_account


@pytest.fixture()
def people(session):
    return {
        "kari": add_account(session, "100001", "Kari", "Nordmann", "912 34 567", "Kari.Nordmann@Example.no"),
        "ola": add_account(session, "100002", "Ola", "Nordmark", "413 00 000", "ola@example.no"),
        "per": add_account(session, "200003", "Per", "Persson", "+46 70 123 45 67", None),
        "percent": add_account(session, "200004", "Ida", "O%Brien", None, None),
    }


def names(session, query: str, **kwargs) -> list[str]:
    return [a.name for a in find_accounts(session=session, query=query, **kwargs)]


@pytest.mark.parametrize(
    "typed", ["912 34 567", "+47 912 34 567", "0047 91234567", "91234567", "(+47) 91-23-45-67", " 100001 "]
)
def test_a_caller_is_found_by_phone_number_in_any_common_spelling_or_account_number(session, people, typed):
    assert names(session, typed) == ["Kari Nordmann"]


def test_a_foreign_number_is_found_with_its_country_code(session, people):
    assert names(session, "+46 70 123 45 67") == ["Per Persson"]
    assert names(session, "070 123 45 67", phone_region="SE") == ["Per Persson"]


def test_the_numeric_id_finds_the_account(session, people):
    assert names(session, str(people["ola"])) == ["Ola Nordmark"]


def test_e_mail_is_matched_whatever_its_case(session, people):
    assert names(session, "kari.nordmann@example.NO") == ["Kari Nordmann"]


def test_names_are_matched_by_prefix_of_the_full_name_or_the_surname(session, people):
    assert names(session, "nord") == ["Kari Nordmann", "Ola Nordmark"]
    assert names(session, "KARI NORD") == ["Kari Nordmann"]
    assert names(session, "ordmann") == []


def test_wildcards_typed_by_the_agent_are_taken_literally(session, people):
    assert names(session, "o%b") == ["Ida O%Brien"]
    assert names(session, "o_b") == []
    assert names(session, "%") == []


def test_an_empty_query_or_a_huge_number_finds_nothing_and_does_not_fail(session, people):
    assert names(session, "   ") == []
    assert names(session, "9" * 30) == []


def test_the_result_list_is_capped(session, people):
    assert len(find_accounts(session=session, query="n", limit=1)) == 1


def test_an_account_view_is_none_for_an_unknown_account(session):
    assert get_account_view(session=session, account_id=424242) is None


def test_tenure_counts_whole_months():
    assert tenure_months(date(2024, 1, 31), date(2024, 2, 29)) == 0
    assert tenure_months(date(2024, 1, 15), date(2025, 1, 15)) == 12
    assert tenure_months(None, date(2025, 1, 1)) is None
