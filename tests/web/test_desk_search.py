"""The desk: find a caller's account while they talk, by live search or straight from the phone system."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from retention_desk.domain.contact import format_phone
from retention_desk.storage.tables import AccountService, Bill, Call, OfferHistory, Ticket
from tests.web.sign_in_helpers import add_account, add_user, log_in

HX = {"HX-Request": "true"}


@pytest.fixture()
def desk(client, session):
    """A signed-in agent and two subscribers, one of them with the phone number 912 34 567."""
    add_user(session, "anna")
    ids = {
        "kari": add_account(session, "100001", "Kari", "Nordmann", "912 34 567", "kari@example.no"),
        "ola": add_account(session, "100002", "Ola", "Nordmark", "+47 413 00 000", "ola@example.no"),
    }
    log_in(client, "anna")
    return ids


@pytest.mark.parametrize("typed", ["912 34 567", "+47 912 34 567", "0047 91234567", "91234567", "100001"])
def test_an_account_is_found_by_phone_in_any_spelling_or_by_account_number(client, desk, typed):
    page = client.get("/desk/search", query_string={"q": typed}, headers=HX).get_data(as_text=True)
    assert "Kari Nordmann" in page
    assert "Ola Nordmark" not in page


def test_name_prefix_and_email_find_accounts(client, desk):
    both = client.get("/desk/search?q=nord", headers=HX).get_data(as_text=True)
    assert "Kari Nordmann" in both and "Ola Nordmark" in both
    assert "Ola Nordmark" in client.get("/desk/search?q=ola%20nor", headers=HX).get_data(as_text=True)
    assert "Kari Nordmann" in client.get("/desk/search?q=KARI@example.no", headers=HX).get_data(as_text=True)


def test_live_search_returns_only_the_results_fragment_to_htmx(client, desk):
    fragment = client.get("/desk/search?q=kari", headers=HX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Kari Nordmann" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_results_address_opened_directly_or_restored_from_history_is_a_full_page(client, desk):
    for headers in ({}, {**HX, "HX-History-Restore-Request": "true"}):
        page = client.get("/desk/search?q=kari", headers=headers).get_data(as_text=True)
        assert "<html" in page and 'value="kari"' in page and "Kari Nordmann" in page


def test_the_search_box_searches_live_with_htmx(client, desk):
    page = client.get("/desk").get_data(as_text=True)
    assert 'hx-get="/desk/search"' in page
    assert 'hx-trigger="keyup changed delay:200ms"' in page
    assert '<label for="q">' in page
    assert 'hx-headers=\'{"X-CSRFToken": ' in page


def test_a_screen_pop_with_one_matching_phone_number_opens_the_account(client, desk):
    response = client.get("/desk", query_string={"phone": "+47 912 34 567"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/desk/accounts/{desk['kari']}"


def test_a_screen_pop_by_account_number_opens_the_account(client, desk):
    response = client.get("/desk?account=100002")
    assert response.headers["Location"] == f"/desk/accounts/{desk['ola']}"


def test_a_screen_pop_without_a_single_match_shows_the_search_with_the_number_filled_in(client, desk):
    page = client.get("/desk", query_string={"phone": "+47 999 99 999"}).get_data(as_text=True)
    assert 'value="+47 999 99 999"' in page
    assert "No account matches" in page


def test_an_unknown_account_is_a_404_page(client, desk):
    assert client.get("/desk/accounts/999999").status_code == 404


def test_the_account_page_shows_what_the_agent_needs_during_the_call(client, session, desk):
    account_id = desk["kari"]
    now = datetime.now(UTC)
    session.add(
        AccountService(
            account_id=account_id, kind="broadband", code="BB300", name="Fibre 300", monthly_price=Decimal("549.00")
        )
    )
    for month, amount in enumerate(["700.00", "720.00", "799.00"]):
        session.add(Bill(account_id=account_id, period_start=date(2026, month + 1, 1), amount=Decimal(amount)))
    session.add(
        Ticket(
            account_id=account_id,
            kind="outage",
            opened_at=now - timedelta(days=10),
            duration_hours=5.5,
            summary="Fibre cut in street",
        )
    )
    session.add(
        Ticket(account_id=account_id, kind="fault", opened_at=now - timedelta(days=200), summary="Old router fault")
    )
    session.add(
        OfferHistory(
            account_id=account_id,
            offer_code="DISC20_6M",
            offer_kind="percent_discount",
            offered_at=now - timedelta(days=400),
            response="accepted",
        )
    )
    session.add(
        Call(
            idempotency_key="k1",
            account_id=account_id,
            started_at=now - timedelta(days=400),
            cancel_reason="price",
            disposition="cancelled",
        )
    )
    session.commit()

    page = client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    for expected in (
        "Kari Nordmann",
        "100001",
        format_phone("+4791234567"),
        "kari@example.no",
        "Bergen",
        "TV_BB_300",
        "Fibre 300",
        "NOK549.00",
        "NOK799.00",
        "+NOK99.00",
        "Fibre cut in street",
        "DISC20_6M",
        "accepted",
        "price",
        "month to month",
    ):
        assert expected in page, expected
    assert "Old router fault" not in page  # older than 90 days
    assert 'id="risk-and-offers"' in page


def test_money_and_language_follow_the_signed_in_users_locale(app, session):
    from retention_desk.services.staff.users import UserIn, create_user
    from tests.web.sign_in_helpers import PASSWORD

    create_user(session=session, user_in=UserIn(username="kari", password=PASSWORD, locale="nb"))
    session.commit()
    account_id = add_account(session, "300001", "Kari", "Nordmann", "912 34 567")
    client = app.test_client()
    log_in(client, "kari")
    page = client.get(f"/desk/accounts/{account_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nb">' in page
    assert "799,00\xa0kr" in page
