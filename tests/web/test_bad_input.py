"""What a hostile probe once broke, each answered with a clear 4xx now (the generated-request test keeps it so)."""

from __future__ import annotations

from tests.web.sign_in_helpers import add_user, csrf_token, log_in
from tests.web.supervise_helpers import logged_desk


def test_head_of_the_sign_in_page_is_answered(client) -> None:
    assert client.head("/login").status_code == 200


def test_a_nul_in_the_sign_in_name_is_refused_before_sign_in(client, session) -> None:
    add_user(session, "anna")
    token = csrf_token(client)
    response = client.post("/login", data={"username": "an\x00na", "password": "x", "csrf_token": token})
    assert response.status_code == 400 and "control character" in response.get_data(as_text=True)


def test_ids_past_what_a_database_key_holds_are_not_found(client, session) -> None:
    add_user(session, "anna")
    log_in(client, "anna")
    for path in ("/desk/accounts/2147483648", "/desk/calls/9223372036854775808", "/desk/calls/0"):
        assert client.get(path).status_code == 404


def test_a_search_next_to_the_surrogates_and_odd_digits_are_answered(client, session) -> None:
    add_user(session, "anna")
    log_in(client, "anna")
    assert client.get("/desk/search", query_string={"q": "abc\ud7ff"}).status_code == 200
    assert client.get("/supervise/calls", query_string={"page": "²"}).status_code in (200, 403)


def test_dates_outside_the_years_the_desk_keeps_are_named(client, session) -> None:
    logged_desk(session)
    log_in(client, "siri")
    for value in ("9999-12-31", "0001-01-01"):
        response = client.get("/supervise/calls", query_string={"to": value})
        assert response.status_code == 400 and "outside the dates" in response.get_data(as_text=True)


def test_a_catalog_number_too_large_for_any_offer_is_a_form_error(client, session) -> None:
    logged_desk(session)
    log_in(client, "siri")
    page = client.get("/supervise/catalog/DISC10").get_data(as_text=True)
    assert "cost_amount" in page
    token = csrf_token(client, "/supervise/catalog/DISC10")
    response = client.post(
        "/supervise/catalog/DISC10",
        data={"csrf_token": token, "name": "x", "cost_amount": "1e400", "kind": "bill_credit"},
    )
    assert response.status_code == 400 and "too large" in response.get_data(as_text=True)
