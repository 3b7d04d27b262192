"""An agent signs in, finds a caller by the phone number they read out, and opens the account - by keyboard."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import exists, func, select

from retention_desk.storage.db import session_scope
from retention_desk.storage.tables import Account, OfferHistory, Ticket

pytestmark = pytest.mark.browser

README_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "img" / "desk-account.png"


def demo_agent():
    """The demo agent's login, as the demo prints it."""
    from retention_desk.services.seeding import demo_logins

    return next(login for login in demo_logins() if login.role == "agent")


def a_caller(url: str) -> tuple[str, str]:
    """An active subscriber with some history whose phone number is theirs alone: (full name, number as said).

    The history makes the README screenshot show a representative account page.
    """
    with session_scope(url) as session:
        unique_phones = (
            select(Account.phone_normalised)
            .where(Account.phone_normalised.like("+47%"))
            .group_by(Account.phone_normalised)
            .having(func.count() == 1)
        )
        candidates = select(Account).where(Account.phone_normalised.in_(unique_phones)).order_by(Account.id)
        with_history = candidates.where(
            Account.status == "active",
            exists().where(OfferHistory.account_id == Account.id),
            exists().where(Ticket.account_id == Account.id),
        )
        account = session.execute(with_history.limit(1)).scalar_one_or_none()
        account = account or session.execute(candidates.limit(1)).scalar_one()
        spoken = phonenumbers.format_number(
            phonenumbers.parse(account.phone_normalised), phonenumbers.PhoneNumberFormat.NATIONAL
        )
        return f"{account.first_name} {account.last_name}", spoken


def test_an_agent_finds_a_caller_by_phone_and_opens_the_account_with_the_keyboard(
    desk_page, world_settings, screenshots
):
    page = desk_page
    agent = demo_agent()
    name, spoken_number = a_caller(world_settings.database_url)
    assert " " in spoken_number  # typed the way it is read out, with spaces

    page.goto("/desk")
    assert "/login" in page.url
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk")
    page.screenshot(path=str(screenshots / "desk-search.png"))

    page.evaluate("document.activeElement.blur()")  # the box has autofocus; "/" must find it from anywhere
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type(spoken_number, delay=20)
    result = page.locator("#results a.result").first
    result.wait_for()
    assert name in result.inner_text()
    page.screenshot(path=str(screenshots / "desk-results.png"))

    page.keyboard.press("ArrowDown")
    assert page.locator('#results li[aria-selected="true"]').count() == 1
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/accounts/*")
    assert page.locator("#account-name").inner_text() == name
    assert page.locator("#risk-and-offers").is_visible()
    page.screenshot(path=str(screenshots / "desk-account.png"), full_page=False)
    if os.environ.get("RETENTION_DESK_UPDATE_README_IMAGE") == "1":  # refresh the README's picture on request only
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshots / "desk-account.png", README_IMAGE)
    assert page.console_errors == []  # e.g. no Content-Security-Policy violations


def test_a_screen_pop_by_phone_number_opens_the_account_after_sign_in(desk_page, world_settings):
    page = desk_page
    agent = demo_agent()
    name, spoken_number = a_caller(world_settings.database_url)

    page.goto("/desk?phone=" + spoken_number.replace(" ", "%20"))
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/desk/accounts/*")
    assert page.locator("#account-name").inner_text() == name
