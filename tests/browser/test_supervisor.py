"""The supervisor console in a real browser: the offer log, the CSV export, one call, the catalog editor, approvals.

Calls are made as the demo agent through the services (tests/call_world.py) on accounts no other test uses; the
offer edited here is one this test adds, inactive, so no other test's ranked lists change.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import Session

from retention_desk.services.calls.steps import start_call
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import ApprovalRequest, AuditEvent, Call
from tests.browser.conftest import VIEWPORT
from tests.call_world import EXPLOIT, fix_draws, owned_account, presentable

pytestmark = pytest.mark.browser

SUPERVISOR_SKIP = 120  # below the accounts the desk's browser tests take
PAGES = ("/supervise/calls", "/supervise/catalog", "/supervise/catalog/DISC10", "/supervise/approvals")


@pytest.fixture(autouse=True)
def exploit_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_draws(monkeypatch)


@pytest.fixture()
def db(world_settings) -> Session:
    with Session(get_engine(world_settings.database_url), expire_on_commit=False) as session:
        yield session


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/desk"))


def agents_call(db: Session, world_settings, account_id: int) -> int:
    """A call the demo agent takes through the call service, as the desk would."""
    agent = get_user_by_username(session=db, username="agent")
    call = start_call(
        session=db,
        settings=world_settings,
        account_id=account_id,
        agent_id=agent.id,
        idempotency_key=f"h7-{account_id}",
        reason="price",
        draws=EXPLOIT,
    )
    db.commit()
    return call.call.id


def test_a_supervisor_filters_the_log_exports_it_and_opens_one_call(desk_page, world_settings, screenshots, db):
    page = desk_page
    account_id = owned_account(world_settings, lambda r: len(presentable(r)) >= 1, SUPERVISOR_SKIP)
    call_id = agents_call(db, world_settings, account_id)
    ranked = db.get(Call, call_id).ranked
    today = datetime.now(UTC).date().isoformat()

    sign_in(page, "supervisor", "supervisor-demo-1")
    page.goto("/supervise/calls")
    page.get_by_label("From (UTC)").fill(today)
    page.get_by_label("To (UTC)").fill(today)
    page.get_by_label("Agent").select_option(label="Ingrid Berg")
    with page.expect_response(re.compile(r"/supervise/calls\?.*reason=price")):
        page.get_by_label("Cancel reason").select_option("price")
    row = page.locator(f'tr[data-call-id="{call_id}"]')
    row.wait_for()
    assert "reason=price" in page.url and "agent=" in page.url  # the filtered log has its own address
    page.screenshot(path=str(screenshots / "supervisor-log.png"))

    with page.expect_download() as download_info:
        page.locator("#csv-export").click()
    path = download_info.value.path()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert str(call_id) in [r["call_id"] for r in rows]
    assert {r["agent"] for r in rows} == {"agent"} and {r["cancel_reason"] for r in rows} == {"price"}

    row.get_by_role("link").first.click()
    page.wait_for_url(f"**/supervise/calls/{call_id}")
    table = page.locator("#ranked-list")
    offers = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.offer)")
    assert offers == [item["offer_code"] or "" for item in sorted(ranked, key=lambda i: i["rank"])]
    first = next(i for i in ranked if i["offer_code"])
    assert f"{first['p_stay']:.3f}" in table.locator(f'tr[data-offer="{first["offer_code"]}"]').inner_text()
    page.screenshot(path=str(screenshots / "supervisor-call.png"), full_page=True)
    assert page.console_errors == []


def test_a_supervisor_adds_and_edits_an_offer_and_sees_the_audit_row(desk_page, screenshots, db):
    page = desk_page
    code = "H7TRIAL"
    sign_in(page, "supervisor", "supervisor-demo-1")
    page.goto("/supervise/catalog/new")
    page.get_by_label("Code").fill(code)
    page.get_by_label("Name", exact=True).fill("Trial credit")
    page.get_by_label("Kind").select_option("bill_credit")
    page.get_by_label("Details (one per line, such as percent = 10)").fill("amount = 150")
    page.get_by_label("Cost model").select_option("one_off")
    page.get_by_label("Cost (per month for a monthly cost)").fill("150")
    page.get_by_label("Active: agents may offer it").uncheck()  # never shown to an agent: other tests rank on
    page.get_by_role("button", name="Add offer").click()
    page.wait_for_url(f"**/supervise/catalog/{code}")

    page.get_by_label("Cost (per month for a monthly cost)").fill("-5")
    page.get_by_role("button", name="Save changes").click()
    assert "must be a non-negative number" in page.locator("#o-cost_amount-error").inner_text()

    page.get_by_label("Cost (per month for a monthly cost)").fill("175")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/supervise/catalog/{code}")
    audit = page.locator("#offer-audit tbody tr").first
    assert "offer_updated" in audit.inner_text()
    assert "150.00" in audit.locator(".before").inner_text() and "175.00" in audit.locator(".after").inner_text()
    page.screenshot(path=str(screenshots / "supervisor-offer.png"), full_page=True)

    event = db.execute(
        select(AuditEvent).where(AuditEvent.entity_id == code, AuditEvent.action == "offer_updated")
    ).scalar_one()
    assert (event.actor_name, event.before, event.after) == (
        "supervisor",
        {"cost_amount": "150.00"},
        {"cost_amount": "175.00"},
    )
    assert [e for e in page.console_errors if "status of 400" not in e] == []  # the refused save answered 400


def test_a_supervisor_approves_a_request_and_the_agents_screen_shows_it(
    chromium, live_url, world_settings, screenshots, db
):
    account_id = owned_account(world_settings, lambda r: any(i["needs_approval"] for i in r), SUPERVISOR_SKIP)
    agent_ctx = chromium.new_context(viewport=VIEWPORT, base_url=live_url, locale="en-GB")
    boss_ctx = chromium.new_context(viewport=VIEWPORT, base_url=live_url, locale="en-GB")
    try:
        agent, boss = agent_ctx.new_page(), boss_ctx.new_page()
        for p in (agent, boss):
            p.set_default_timeout(10_000)
        sign_in(agent, "agent", "agent-demo-1")
        agent.goto(f"/desk/accounts/{account_id}")
        agent.get_by_role("button", name="Start cancellation call").click()
        agent.wait_for_url("**/desk/calls/*")
        call_id = int(agent.url.rsplit("/", 1)[1])
        with agent.expect_response(re.compile(r"/reason$")):
            agent.get_by_label("Why does the caller want to cancel?").select_option("price")
        code = next(i["offer_code"] for i in db.get(Call, call_id).ranked if i["needs_approval"])
        line = agent.locator(f"#offer-{code}")
        line.get_by_role("button", name=re.compile("^Request approval")).click()
        line.get_by_text("Waiting for a supervisor").wait_for()
        request_id = db.execute(select(ApprovalRequest.id).where(ApprovalRequest.call_id == call_id)).scalar_one()

        sign_in(boss, "supervisor", "supervisor-demo-1")
        boss.goto("/supervise/approvals")
        row = boss.locator(f"#request-{request_id}")
        assert code in row.inner_text() and f"/supervise/calls/{call_id}" in row.inner_html()
        row.get_by_label(f"Note for request {request_id}").fill("Loyal for years.")
        boss.screenshot(path=str(screenshots / "supervisor-approvals.png"))
        row.get_by_role("button", name=re.compile("^Approve")).click()
        boss.locator(".flash-success").wait_for()
        assert boss.locator(f"#request-{request_id}").count() == 0

        line.get_by_role("button", name=re.compile("^Present")).wait_for(timeout=10_000)  # the line polls every 3 s
        db.expire_all()
        request = db.get(ApprovalRequest, request_id)
        assert (request.status, request.note) == ("approved", "Loyal for years.")
    finally:
        agent_ctx.close()
        boss_ctx.close()


def test_an_agent_cannot_reach_the_console(desk_page):
    page = desk_page
    sign_in(page, "agent", "agent-demo-1")
    assert page.locator("a[href^='/supervise']").count() == 0
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 403, path
        assert "You do not have permission" in page.locator("main").inner_text()
