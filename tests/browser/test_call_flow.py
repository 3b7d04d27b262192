"""Whole cancellation calls in a real browser: screen pop, reason, offers, approval, outcome - and what is logged."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import phonenumbers
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.services.calls.approvals import decide
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, ApprovalRequest, Call, CallOffer, OfferHistory
from tests.call_world import fix_draws, offer_first, owned_account, presentable

pytestmark = pytest.mark.browser

README_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "img" / "desk-call.png"
BROWSER_SKIP = 60  # below the accounts the Flask-client call tests take, so the two never meet


@pytest.fixture(autouse=True)
def exploit_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_draws(monkeypatch)  # the live app runs in this process, so the fixed draws reach it


@pytest.fixture()
def db(world_settings) -> Session:
    with Session(get_engine(world_settings.database_url), expire_on_commit=False) as session:
        yield session


def sign_in(page, username: str = "agent", password: str = "agent-demo-1") -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def open_call(page, account_id: int) -> int:
    """From the account page: start the call and land on its own URL."""
    page.goto(f"/desk/accounts/{account_id}")
    if "/login" in page.url:
        sign_in(page)
        page.wait_for_url(f"**/desk/accounts/{account_id}")
    page.get_by_role("button", name="Start cancellation call").click()
    page.wait_for_url("**/desk/calls/*")
    return int(page.url.rsplit("/", 1)[1])


def choose_reason(page, code: str) -> None:
    """Give the reason and wait for the panel ranked for it (the panel before it also lists offers)."""
    page.get_by_label("Why does the caller want to cancel?").select_option(code)
    page.locator(f"#offers[data-reason='{code}'] .offer").first.wait_for()


def offer_line(page, code: str):
    return page.locator(f"#offer-{code}")


def test_a_screen_popped_call_saves_the_caller_with_an_offer_and_logs_the_ranked_list(
    desk_page, world_settings, screenshots, db
):
    page = desk_page
    account_id = owned_account(world_settings, offer_first, BROWSER_SKIP, unique_phone=True)
    account = db.get(Account, account_id)
    spoken = phonenumbers.format_number(
        phonenumbers.parse(account.phone_normalised), phonenumbers.PhoneNumberFormat.NATIONAL
    )

    page.goto("/desk?phone=" + spoken.replace(" ", "%20"))  # as the phone system opens it
    sign_in(page)
    page.wait_for_url(f"**/desk/accounts/{account_id}")
    page.get_by_role("button", name="Start cancellation call").click()
    page.wait_for_url("**/desk/calls/*")
    call_id = int(page.url.rsplit("/", 1)[1])
    assert page.evaluate("document.activeElement.tagName") != "INPUT"

    choose_reason(page, "price")
    first = presentable(db.get(Call, call_id).ranked)[0]
    assert page.locator("#offers .offer").first.get_attribute("data-offer") == first
    page.screenshot(path=str(screenshots / "desk-call.png"))
    if os.environ.get("RETENTION_DESK_UPDATE_README_IMAGE") == "1":  # refresh the README's picture on request only
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshots / "desk-call.png", README_IMAGE)

    page.keyboard.press("1")  # number keys present the nth offer
    offer_line(page, first).get_by_role("button", name=re.compile("^Accepted")).click()
    offer_line(page, first).locator(".state-accepted").wait_for()
    page.get_by_label("saved with offer").check()
    page.get_by_label("Notes").fill("Stays for the discount.")
    page.screenshot(path=str(screenshots / "desk-call-accepted.png"))
    page.get_by_role("button", name="Close the call").click()
    page.wait_for_url("**/desk")
    # Ready for the next call: the search box has autofocus, which the browser applies after the page's load event.
    expect(page.locator("#q")).to_be_focused()
    assert "Call closed" in page.locator("main").inner_text()

    db.expire_all()
    call = db.get(Call, call_id)
    assert (call.disposition, call.offer_code, call.cancel_reason) == ("saved_with_offer", first, "price")
    assert call.ranked and sum(i["propensity"] for i in call.ranked) == pytest.approx(1.0, abs=1e-6)
    assert all({"p_stay", "p_accept", "expected_value"} <= set(i) for i in call.ranked)
    row = db.execute(select(CallOffer).where(CallOffer.call_id == call_id)).scalar_one()
    assert (row.offer_code, row.response, row.rank) == (first, "accepted", 1) and row.propensity > 0
    assert page.console_errors == []


def test_a_caller_declines_an_offer_and_the_cancellation_is_processed(desk_page, world_settings, screenshots, db):
    page = desk_page
    account_id = owned_account(world_settings, lambda r: len(presentable(r)) >= 1, BROWSER_SKIP)
    call_id = open_call(page, account_id)
    choose_reason(page, "moving")
    code = presentable(db.get(Call, call_id).ranked)[0]

    offer_line(page, code).get_by_role("button", name=re.compile("^Present")).click()
    offer_line(page, code).get_by_role("button", name=re.compile("^Declined")).click()
    offer_line(page, code).locator(".state-declined").wait_for()
    page.locator(".why-not summary").click()  # "why not?" on demand
    page.locator(".why-not-body li, .why-not-body p:not(:has-text('Loading'))").first.wait_for()
    page.screenshot(path=str(screenshots / "desk-call-declined.png"))
    page.get_by_label("Notes").fill("Moving abroad.")
    page.once("dialog", lambda dialog: dialog.accept())  # the confirmation
    page.get_by_role("button", name="Process cancellation").click()
    page.wait_for_url("**/desk")

    db.expire_all()
    call = db.get(Call, call_id)
    assert (call.disposition, call.notes) == ("cancelled", "Moving abroad.")
    assert db.get(Account, account_id).status == "cancelled"
    rows = db.execute(select(CallOffer).where(CallOffer.call_id == call_id)).scalars().all()
    assert [(r.offer_code, r.response) for r in rows] == [(code, "declined")]
    assert page.console_errors == []


def test_a_tier_one_agent_gets_a_tier_two_offer_approved_without_reloading(desk_page, world_settings, screenshots, db):
    page = desk_page
    account_id = owned_account(world_settings, lambda r: any(i["needs_approval"] for i in r), BROWSER_SKIP)
    call_id = open_call(page, account_id)
    choose_reason(page, "price")
    code = next(i["offer_code"] for i in db.get(Call, call_id).ranked if i["needs_approval"])
    page.evaluate("window.__sameDocument = true")

    offer_line(page, code).get_by_role("button", name=re.compile("^Request approval")).click()
    offer_line(page, code).get_by_text("Waiting for a supervisor").wait_for()
    page.screenshot(path=str(screenshots / "desk-call-approval-pending.png"))
    request = db.execute(select(ApprovalRequest).where(ApprovalRequest.call_id == call_id)).scalar_one()
    supervisor = get_user_by_username(session=db, username="supervisor")
    decide(session=db, approver=supervisor, request_id=request.id, approve=True)
    db.commit()

    present = offer_line(page, code).get_by_role("button", name=re.compile("^Present"))
    present.wait_for(timeout=10_000)  # the line polls every 3 s
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    present.click()
    offer_line(page, code).get_by_role("button", name=re.compile("^Accepted")).wait_for()
    db.expire_all()
    assert db.execute(select(CallOffer.offer_code).where(CallOffer.call_id == call_id)).scalar_one() == code
    assert page.console_errors == []


def test_a_double_clicked_acceptance_logs_once(desk_page, world_settings, db):
    page = desk_page
    account_id = owned_account(world_settings, lambda r: len(presentable(r)) >= 1, BROWSER_SKIP)
    call_id = open_call(page, account_id)
    choose_reason(page, "price")
    code = presentable(db.get(Call, call_id).ranked)[0]
    offer_line(page, code).get_by_role("button", name=re.compile("^Present")).dblclick()
    accepted = offer_line(page, code).get_by_role("button", name=re.compile("^Accepted"))
    accepted.dblclick()
    offer_line(page, code).locator(".state-accepted").wait_for()

    db.expire_all()
    rows = db.execute(select(CallOffer).where(CallOffer.call_id == call_id)).scalars().all()
    assert [(r.offer_code, r.response) for r in rows] == [(code, "accepted")]
    assert db.execute(select(func.count()).where(OfferHistory.call_id == call_id)).scalar_one() == 1
    assert db.get(Call, call_id).offer_code == code


def test_a_lost_connection_says_so_and_the_retry_goes_through(desk_page, world_settings, db):
    page = desk_page
    account_id = owned_account(world_settings, lambda r: len(presentable(r)) >= 1, BROWSER_SKIP)
    call_id = open_call(page, account_id)
    choose_reason(page, "price")
    code = presentable(db.get(Call, call_id).ranked)[0]
    page.get_by_label("Notes").fill("typed before the network dropped")

    page.context.set_offline(True)
    offer_line(page, code).get_by_role("button", name=re.compile("^Present")).click()
    banner = page.locator("#connection-banner")
    banner.wait_for(state="visible")
    assert "connection" in banner.inner_text().lower()
    page.context.set_offline(False)
    offer_line(page, code).get_by_role("button", name=re.compile("^Present")).click()
    offer_line(page, code).get_by_role("button", name=re.compile("^Accepted")).wait_for()
    assert banner.is_hidden()
    assert page.get_by_label("Notes").input_value() == "typed before the network dropped"
    db.expire_all()
    assert db.execute(select(func.count()).where(CallOffer.call_id == call_id)).scalar_one() == 1
