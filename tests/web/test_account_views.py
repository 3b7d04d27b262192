"""Who opened which account: one audit row per page that shows an account (the account page, a call's page, the
supervisor's call record), none for the htmx fragments redrawn on that page; and an erased subscriber's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.services.subjects import erase_subject
from retention_desk.storage.tables import AuditEvent, Call
from tests.web.sign_in_helpers import log_in
from tests.web.supervise_helpers import logged_desk

HX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.fixture()
def desk(client, session) -> dict[str, int]:
    ids = logged_desk(session)
    log_in(client, "anna")
    return ids


def views(session: Session) -> list[tuple[str, str, str, str | None]]:
    """(user, account id, route, address) of every account_viewed row, oldest first."""
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.actor_name, AuditEvent.entity_id, AuditEvent.detail, AuditEvent.ip)
        .where(AuditEvent.action == "account_viewed", AuditEvent.entity_type == "account")
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows.all()]


def token(client) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/desk").get_data(as_text=True)).group(1)


def test_opening_the_account_page_writes_one_row_per_opening(client, session, desk):
    account = desk["acc1"]
    assert client.get(f"/desk/accounts/{account}").status_code == 200
    (row,) = views(session)
    assert row == ("anna", str(account), f"GET /desk/accounts/{account}", "127.0.0.1")
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "account_viewed")).scalar_one()
    assert event.actor_id == desk["anna"] and event.at.tzinfo is not None
    client.get(f"/desk/accounts/{account}")  # a reload is another opening
    assert len(views(session)) == 2


def test_a_call_page_is_one_opening_and_its_fragments_and_steps_are_none(client, session, desk):
    call, account = desk["call3"], desk["acc1"]
    assert client.get(f"/desk/calls/{call}").status_code == 200
    assert views(session) == [("anna", str(account), f"GET /desk/calls/{call}", "127.0.0.1")]

    for path in (f"/desk/calls/{call}/offers", f"/desk/calls/{call}/offers/DISC10", f"/desk/calls/{call}/why-not"):
        fragment = client.get(path, headers=HX)
        assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    presented = client.post(f"/desk/calls/{call}/offers/DISC10/present", headers={**HX, "X-CSRFToken": token(client)})
    assert presented.status_code == 200
    assert len(views(session)) == 1

    # Back to a page htmx no longer holds: the whole page comes back, so the account is shown again.
    restored = client.get(f"/desk/calls/{call}/offers", headers=RESTORE)
    assert "<html" in restored.get_data(as_text=True)
    assert views(session)[-1] == ("anna", str(account), f"GET /desk/calls/{call}/offers", "127.0.0.1")
    assert len(views(session)) == 2


def test_the_supervisors_call_record_is_an_opening_of_the_account(app, session, desk):
    supervisor = app.test_client()
    log_in(supervisor, "siri")
    call = desk["call2"]
    assert supervisor.get(f"/supervise/calls/{call}").status_code == 200
    assert views(session) == [("siri", str(desk["acc2"]), f"GET /supervise/calls/{call}", "127.0.0.1")]


def test_pages_that_show_no_account_write_no_row(app, client, session, desk):
    assert client.get("/desk/accounts/999999").status_code == 404
    assert client.get("/desk/calls/999999").status_code == 404
    client.get("/desk/search?q=Hansen", headers=HX)
    assert app.test_client().get(f"/desk/accounts/{desk['acc1']}").status_code == 302  # not signed in
    assert views(session) == []


def test_supervisors_find_who_opened_the_account_from_its_page(app, client, session, desk):
    assert 'id="who-opened"' not in client.get(f"/desk/accounts/{desk['acc1']}").get_data(as_text=True)
    supervisor = app.test_client()
    log_in(supervisor, "siri")
    page = supervisor.get(f"/desk/accounts/{desk['acc1']}").get_data(as_text=True)
    assert 'href="/supervise/audit?account=A-1"' in page


def test_an_erased_subscribers_page_shows_the_banner_and_no_personal_data(client, session, desk):
    erased = erase_subject(session=session, account_no="A-1")
    session.commit()
    html = client.get(f"/desk/accounts/{desk['acc1']}").get_data(as_text=True)
    assert 'id="erased-banner"' in html
    assert f"Personal data erased on {erased.erased_at:%b} {erased.erased_at.day}, {erased.erased_at.year}" in html
    assert "at the subscriber&#39;s request" in html or "at the subscriber's request" in html
    assert "Ola" not in html and "Hansen" not in html and "Bergen" not in html
    assert 'id="start-call"' not in html and 'id="risk"' not in html and "nothing to retain" in html
    found = client.get("/desk/search?q=A-1", headers=HX).get_data(as_text=True)
    assert "personal data erased" in found and "Hansen" not in found


def test_starting_a_call_on_an_erased_subscriber_is_refused_with_a_sentence(client, session, desk):
    erase_subject(session=session, account_no="A-1")
    session.commit()
    calls_before = session.execute(select(func.count()).select_from(Call)).scalar_one()
    form = {"idempotency_key": "erased-start-1", "csrf_token": token(client)}
    response = client.post(f"/desk/accounts/{desk['acc1']}/calls", data=form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "personal data was erased at their request: there is nothing to retain." in html.replace("&#39;", "'")
    assert session.execute(select(func.count()).select_from(Call)).scalar_one() == calls_before
