"""Signing in and out: CSRF on every POST, one message for every wrong login, throttling, safe redirects."""

from __future__ import annotations

from sqlalchemy import select

from retention_desk.storage.tables import AuditEvent
from tests.web.sign_in_helpers import add_user, csrf_token, log_in

WRONG = "Unknown username or wrong password."


def actions(session) -> list[str]:
    session.expire_all()
    return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_a_login_without_a_csrf_token_is_refused_with_a_clear_message(client, session):
    add_user(session, "anna")
    response = client.post("/login", data={"username": "anna", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "security token is missing or has expired" in response.get_data(as_text=True)
    assert "login" not in actions(session)


def test_an_agent_signs_in_with_the_right_password_and_lands_on_the_desk(client, session):
    add_user(session, "anna")
    response = log_in(client, "anna")
    assert response.status_code == 302
    assert response.headers["Location"] == "/desk"
    assert client.get("/desk").status_code == 200
    assert actions(session)[-1] == "login"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, session):
    add_user(session, "anna")
    wrong_password = log_in(client, "anna", "not the password")
    unknown_user = log_in(client, "nobody", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert WRONG in wrong_password.get_data(as_text=True)
    assert WRONG in unknown_user.get_data(as_text=True)
    assert actions(session).count("login_failed") == 2


def test_the_sixth_rapid_failed_login_for_a_username_is_throttled_without_checking_the_password(client, session):
    add_user(session, "anna")
    for attempt in range(5):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt + 1}"  # spread over addresses: per-user limit
        assert log_in(client, "anna", "guess").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    response = log_in(client, "anna")  # the right password no longer helps
    assert response.status_code == 429
    assert "wait" in response.get_data(as_text=True)
    assert client.get("/desk").status_code == 302
    assert actions(session).count("login_failed") == 5
    assert actions(session)[-1] == "login_throttled"


def test_colleagues_behind_one_address_are_not_locked_out_by_one_agents_typos(client, session, settings):
    add_user(session, "bjorn")
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for attempt in range(settings.login_attempts):
        assert log_in(client, f"guess{attempt}", "guess").status_code == 401
    assert log_in(client, "bjorn").status_code == 302


def test_many_failed_logins_from_one_address_are_throttled_for_any_username(client, session, settings):
    add_user(session, "bjorn")
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    for attempt in range(settings.login_attempts_per_address):
        assert log_in(client, f"guess{attempt}", "guess").status_code == 401
    assert log_in(client, "bjorn").status_code == 429


def test_a_user_signs_out_with_a_post_and_the_sign_out_is_audited(client, session):
    add_user(session, "anna")
    log_in(client, "anna")
    token = csrf_token(client, "/desk")
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/desk").status_code == 302
    assert actions(session)[-1] == "logout"


def test_a_sign_out_without_a_csrf_token_is_refused(client, session):
    add_user(session, "anna")
    log_in(client, "anna")
    assert client.post("/logout").status_code == 400
    assert client.get("/desk").status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in_and_brought_back(client, session):
    add_user(session, "anna")
    response = client.get("/desk/search?q=anna")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/desk/search?q%3Danna"
    signed_in = log_in(client, "anna", next="/desk/search?q=anna")
    assert signed_in.headers["Location"] == "/desk/search?q=anna"


def test_sign_in_never_redirects_to_another_site(app, session):
    add_user(session, "anna")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = log_in(app.test_client(), "anna", next=target)
        assert response.headers["Location"] == "/desk", target


def test_the_session_cookie_is_httponly_and_samesite_lax(client, session):
    add_user(session, "anna")
    response = log_in(client, "anna")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_every_page_carries_the_security_headers_and_varies_on_htmx(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"]
    assert "HX-Request" in response.headers["Vary"]


def test_the_page_language_follows_the_browser_when_nobody_is_signed_in(client):
    assert '<html lang="sv">' in client.get("/login", headers={"Accept-Language": "sv-SE,sv;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_a_session_cookie_copied_before_sign_out_no_longer_works_after_it(app, session):
    add_user(session, "anna")
    browser, copy = app.test_client(), app.test_client()
    assert log_in(browser, "anna").status_code == 302
    cookie = browser.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    assert copy.get("/desk").status_code == 200  # the copied cookie works while the user is signed in
    token = csrf_token(browser, "/desk")
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/desk").status_code == 302  # and is refused once they sign out


def test_a_new_password_or_disabling_ends_the_user_s_sessions(app, session):
    from retention_desk.services.staff.users import set_active, set_password

    add_user(session, "anna")
    client = app.test_client()
    assert log_in(client, "anna").status_code == 302
    set_password(session=session, username="anna", password="a brand new passphrase")
    session.commit()
    assert client.get("/desk").status_code == 302
    assert log_in(client, "anna", "a brand new passphrase").status_code == 302
    set_active(session=session, username="anna", active=False)
    session.commit()
    assert client.get("/desk").status_code == 302
    assert log_in(client, "anna", "a brand new passphrase").status_code == 401
    assert {"user_password_changed", "user_disabled"} <= set(actions(session))
