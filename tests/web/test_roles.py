"""Who may open what: agents the desk, supervisors the audit log, admins the user list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from retention_desk.storage.tables import AuditEvent, User
from tests.web.sign_in_helpers import add_user, csrf_token, log_in


@pytest.mark.parametrize("path", ["/supervise/audit", "/admin/users"])
def test_an_agent_is_forbidden_the_supervisor_and_admin_pages(client, session, path):
    add_user(session, "anna", "agent")
    log_in(client, "anna")
    response = client.get(path)
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_a_supervisor_reads_the_audit_log_but_not_the_user_list(client, session):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    page = client.get("/supervise/audit")
    assert page.status_code == 200
    assert "login" in page.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("path", ["/supervise/audit", "/admin/users", "/desk", "/desk/accounts/1"])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/login?next={path}")


def test_an_htmx_request_without_a_session_is_told_to_reload_at_sign_in(client):
    response = client.get("/desk/search?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_the_audit_log_filters_by_action_and_user_and_pages_in_sql(client, session):
    add_user(session, "siri", "supervisor")
    add_user(session, "anna", "agent")
    for _ in range(3):
        log_in(client, "nobody", "wrong")
    log_in(client, "siri")
    only_failures = client.get("/supervise/audit?action=login_failed").get_data(as_text=True)
    assert only_failures.count("<code>login_failed</code>") == 3
    assert "<code>user_created</code>" not in only_failures
    by_user = client.get("/supervise/audit?user=siri").get_data(as_text=True)
    assert "<code>login</code>" in by_user and "<code>login_failed</code>" not in by_user
    future = client.get("/supervise/audit?from=2999-01-01").get_data(as_text=True)
    assert "No events match these filters." in future


def test_the_audit_log_splits_long_histories_into_pages(client, session):
    add_user(session, "siri", "supervisor")
    for n in range(60):
        session.add(AuditEvent(action="offer_updated", actor_name="siri", entity_type="offer", entity_id=str(n)))
    session.commit()
    log_in(client, "siri")
    first = client.get("/supervise/audit?action=offer_updated").get_data(as_text=True)
    second = client.get("/supervise/audit?action=offer_updated&page=2").get_data(as_text=True)
    assert first.count("<code>offer_updated</code>") == 50
    assert "page=2" in first and "action=offer_updated" in first
    assert second.count("<code>offer_updated</code>") == 10


def test_an_admin_adds_a_user_and_the_addition_is_audited_with_who_did_it(client, session):
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    token = csrf_token(client, "/admin/users")
    form = {"username": "Nils", "display_name": "Nils N", "password": "long enough pw", "role": "supervisor"}
    response = client.post("/admin/users", data={**form, "authority_tier": "2", "locale": "nb", "csrf_token": token})
    assert response.status_code == 302
    assert "nils" in client.get("/admin/users").get_data(as_text=True)
    session.expire_all()
    nils = session.execute(select(User).where(User.username == "nils")).scalar_one()
    assert (nils.role, nils.authority_tier, nils.locale) == ("supervisor", 2, "nb")
    created = select(AuditEvent).where(AuditEvent.action == "user_created").order_by(AuditEvent.id)
    event = session.execute(created).scalars().all()[-1]
    assert event.actor_name == "ada" and event.after["username"] == "nils"


def test_adding_a_user_with_bad_input_shows_why_and_stores_nothing(client, session):
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    token = csrf_token(client, "/admin/users")
    short = {"username": "x y", "password": "short", "role": "agent", "authority_tier": "1", "locale": "en"}
    response = client.post("/admin/users", data={**short, "csrf_token": token})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Use letters, digits" in text and "at least 8" in text
    duplicate = {**short, "username": "ada", "password": "long enough pw"}
    again = client.post("/admin/users", data={**duplicate, "csrf_token": token})
    assert again.status_code == 400
    assert "already exists" in again.get_data(as_text=True)
    session.expire_all()
    assert len(session.execute(select(User)).scalars().all()) == 1


def test_adding_a_user_without_a_csrf_token_is_refused(client, session):
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    form = {"username": "nils", "password": "long enough pw", "role": "agent", "authority_tier": "1", "locale": "en"}
    assert client.post("/admin/users", data=form).status_code == 400
    session.expire_all()
    assert len(session.execute(select(User)).scalars().all()) == 1
