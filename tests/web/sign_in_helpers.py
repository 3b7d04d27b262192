"""Helpers for web tests: users, CSRF tokens read from the form pages (CSRF stays on), signing in."""

from __future__ import annotations

import re
from decimal import Decimal

from flask.testing import FlaskClient
from sqlmodel import Session
from werkzeug.test import TestResponse

from retention_desk.domain.contact import normalise_email, normalise_phone
from retention_desk.services.staff.users import UserIn, create_user
from retention_desk.storage.tables import Account

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def add_user(session: Session, username: str, role: str = "agent", password: str = PASSWORD) -> int:
    user = create_user(session=session, user_in=UserIn(username=username, password=password, role=role))
    session.commit()
    return user.id or 0


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The token from a form on ``path``, as a browser would send it back."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str) -> TestResponse:
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, **extra})


def add_account(
    session: Session,
    account_no: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    email: str | None = None,
) -> int:
    account = Account(
        account_no=account_no,
        first_name=first_name,
        last_name=last_name,
        name_search=f"{first_name} {last_name}".lower(),
        surname_search=last_name.lower(),
        phone=phone,
        phone_normalised=normalise_phone(phone),
        email=email,
        email_normalised=normalise_email(email),
        city="Bergen",
        plan_code="TV_BB_300",
        monthly_charge=Decimal("799.00"),
    )
    session.add(account)
    session.commit()
    return account.id or 0
