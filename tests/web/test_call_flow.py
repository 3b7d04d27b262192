"""The call flow on the desk through the Flask client: every route, htmx fragments versus whole pages, refused
input that stores nothing, CSRF, and who may act on a call.

These tests write to the shared seeded world: each takes its own account (tests/call_world.py), and the ranking's
random draws are fixed to the best action.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.services.calls.approvals import decide
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, ApprovalRequest, Call, CallOffer, OfferHistory
from tests.call_world import fix_draws, owned_account, presentable
from tests.web.sign_in_helpers import csrf_token, log_in

HX = {"HX-Request": "true"}
AGENT = ("agent", "agent-demo-1")


@pytest.fixture(autouse=True)
def exploit_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_draws(monkeypatch)


@pytest.fixture()
def agent_client(world_client: FlaskClient) -> FlaskClient:
    log_in(world_client, *AGENT)
    return world_client


@pytest.fixture()
def db(world_settings: Settings) -> Iterator[Session]:
    with Session(get_engine(world_settings.database_url), expire_on_commit=False) as session:
        yield session


def start(client: FlaskClient, account_id: int) -> int:
    """Open a call from the account page the way the browser does: its form, its key, its CSRF token."""
    page = client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/desk/accounts/{account_id}/calls", data={"idempotency_key": key, "csrf_token": token})
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def post(client: FlaskClient, url: str, htmx: bool = True, **data: str):
    """A step as the call page sends it: with the token htmx sends as a header (or the form's field, without htmx)."""
    page = client.get("/desk").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    if htmx:
        return client.post(url, data=data, headers={**HX, "X-CSRFToken": token})
    return client.post(url, data={"csrf_token": token, **data})


def test_the_account_page_offers_a_call_form_with_a_fresh_key_and_a_csrf_token(agent_client, world_settings):
    account_id = owned_account(world_settings)
    first = agent_client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    again = agent_client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    key = re.compile(r'name="idempotency_key" value="([^"]+)"')
    assert key.search(first).group(1) != key.search(again).group(1)
    assert 'name="csrf_token"' in first and "Start cancellation call" in first


def test_a_resubmitted_start_form_opens_one_call_time_stamped_at_once(agent_client, world_settings, db):
    account_id = owned_account(world_settings)
    page = agent_client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    first = agent_client.post(f"/desk/accounts/{account_id}/calls", data={"idempotency_key": key, "csrf_token": token})
    again = agent_client.post(f"/desk/accounts/{account_id}/calls", data={"idempotency_key": key, "csrf_token": token})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    calls = db.execute(select(Call).where(Call.idempotency_key == key)).scalars().all()
    assert len(calls) == 1 and calls[0].cancel_requested_at is not None and calls[0].agent_id is not None
    resumed = agent_client.get(f"/desk/accounts/{account_id}").get_data(as_text=True)
    assert "Resume that call" in resumed


def test_a_start_without_a_key_or_csrf_is_refused_and_opens_nothing(agent_client, world_settings, db):
    account_id = owned_account(world_settings)
    before = db.execute(select(func.count()).select_from(Call).where(Call.account_id == account_id)).scalar_one()
    token = csrf_token(agent_client, f"/desk/accounts/{account_id}")
    no_key = agent_client.post(f"/desk/accounts/{account_id}/calls", data={"csrf_token": token})
    assert no_key.status_code == 303 and no_key.headers["Location"].endswith(f"/desk/accounts/{account_id}")
    assert "A call needs a key" in agent_client.get(no_key.headers["Location"]).get_data(as_text=True)
    no_csrf = agent_client.post(f"/desk/accounts/{account_id}/calls", data={"idempotency_key": "k" * 20})
    assert no_csrf.status_code == 400
    unknown = agent_client.post("/desk/accounts/99999999/calls", data={"idempotency_key": "x1", "csrf_token": token})
    assert unknown.status_code == 404
    after = db.execute(select(func.count()).select_from(Call).where(Call.account_id == account_id)).scalar_one()
    assert after == before


def test_choosing_the_reason_ranks_again_and_htmx_gets_only_the_offers_panel(agent_client, world_settings, db):
    call_id = start(agent_client, owned_account(world_settings, lambda r: len(presentable(r)) >= 1))
    response = post(agent_client, f"/desk/calls/{call_id}/reason", reason="moving")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="offers"') and "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")
    assert db.get(Call, call_id).cancel_reason == "moving"
    plain = post(agent_client, f"/desk/calls/{call_id}/reason", htmx=False, reason="price")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/desk/calls/{call_id}")


def test_an_unknown_reason_or_offer_gets_a_message_and_stores_nothing(agent_client, world_settings, db):
    call_id = start(agent_client, owned_account(world_settings, lambda r: len(presentable(r)) >= 1))
    post(agent_client, f"/desk/calls/{call_id}/reason", reason="price")
    ranked_before = list(db.get(Call, call_id).ranked)

    bad_reason = post(agent_client, f"/desk/calls/{call_id}/reason", reason="aliens")
    assert bad_reason.status_code == 422
    assert "Unknown cancel reason" in bad_reason.get_data(as_text=True)
    bad_offer = post(agent_client, f"/desk/calls/{call_id}/offers/NOPE/present")
    assert bad_offer.status_code == 422 and "not permitted on this call" in bad_offer.get_data(as_text=True)
    bad_answer = post(agent_client, f"/desk/calls/{call_id}/offers/NOPE/answer", accepted="maybe")
    assert bad_answer.status_code == 422
    plain = post(agent_client, f"/desk/calls/{call_id}/offers/NOPE/present", htmx=False)
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)

    db.expire_all()
    call = db.get(Call, call_id)
    assert call.cancel_reason == "price" and call.ranked == ranked_before
    assert db.execute(select(func.count()).where(CallOffer.call_id == call_id)).scalar_one() == 0
    assert agent_client.get("/desk/calls/99999999").status_code == 404
    assert post(agent_client, "/desk/calls/99999999/offers/NOPE/present").status_code == 404
    assert post(agent_client, "/desk/calls/99999999/finish", disposition="cancelled").status_code == 404


def test_a_whole_call_present_accept_and_close_is_logged_with_its_ranked_list(agent_client, world_settings, db):
    call_id = start(agent_client, owned_account(world_settings, lambda r: len(presentable(r)) >= 1))
    post(agent_client, f"/desk/calls/{call_id}/reason", reason="price")
    code = presentable(db.get(Call, call_id).ranked)[0]

    shown = post(agent_client, f"/desk/calls/{call_id}/offers/{code}/present")
    assert shown.status_code == 200 and "Presented. The caller" in shown.get_data(as_text=True)
    for _ in range(2):  # a double click, or a retry after a lost answer
        accepted = post(agent_client, f"/desk/calls/{call_id}/offers/{code}/answer", accepted="yes")
        assert accepted.status_code == 200
    closed = post(agent_client, f"/desk/calls/{call_id}/finish", disposition="saved_with_offer", notes="Happy now.")
    assert closed.status_code == 200 and closed.headers["HX-Redirect"] == "/desk"
    assert "Call closed" in agent_client.get("/desk").get_data(as_text=True)

    db.expire_all()
    call = db.get(Call, call_id)
    assert (call.disposition, call.offer_code, call.notes) == ("saved_with_offer", code, "Happy now.")
    assert call.ranked and all("propensity" in item for item in call.ranked)
    rows = db.execute(select(CallOffer).where(CallOffer.call_id == call_id)).scalars().all()
    assert [(r.offer_code, r.response) for r in rows] == [(code, "accepted")] and rows[0].propensity is not None
    assert db.execute(select(func.count()).where(OfferHistory.call_id == call_id)).scalar_one() == 1
    again = post(agent_client, f"/desk/calls/{call_id}/offers/{code}/answer", accepted="yes")
    assert again.status_code == 422 and "already closed" in again.get_data(as_text=True)


def test_the_offer_limit_and_a_premature_outcome_are_explained_and_notes_are_kept(agent_client, world_settings, db):
    call_id = start(agent_client, owned_account(world_settings, lambda r: len(presentable(r)) >= 3))
    post(agent_client, f"/desk/calls/{call_id}/reason", reason="price")
    codes = presentable(db.get(Call, call_id).ranked)
    for code in codes[:2]:
        assert post(agent_client, f"/desk/calls/{call_id}/offers/{code}/present").status_code == 200
    over = post(agent_client, f"/desk/calls/{call_id}/offers/{codes[2]}/present")
    assert over.status_code == 422 and "has had its 2 offers" in over.get_data(as_text=True)

    early = post(agent_client, f"/desk/calls/{call_id}/finish", disposition="saved_with_offer", notes="Kept text")
    html = early.get_data(as_text=True)
    assert early.status_code == 422 and "Record the accepted offer" in html and "Kept text" in html
    missing = post(agent_client, f"/desk/calls/{call_id}/finish", notes="Still here")
    assert missing.status_code == 422 and "Choose the outcome" in missing.get_data(as_text=True)
    db.expire_all()
    assert db.get(Call, call_id).disposition is None


def test_process_cancellation_closes_the_call_and_cancels_the_account(agent_client, world_settings, db):
    account_id = owned_account(world_settings, lambda r: len(presentable(r)) >= 1)
    call_id = start(agent_client, account_id)
    response = post(agent_client, f"/desk/calls/{call_id}/cancel", notes="Moving abroad.")
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/desk"
    db.expire_all()
    assert db.get(Call, call_id).disposition == "cancelled" and db.get(Call, call_id).notes == "Moving abroad."
    assert db.get(Account, account_id).status == "cancelled"
    page = agent_client.get(f"/desk/calls/{call_id}").get_data(as_text=True)
    assert "This call is closed" in page and 'id="finish-form"' not in page


def test_fragment_urls_loaded_directly_or_restored_from_history_return_the_whole_page(agent_client, world_settings):
    call_id = start(agent_client, owned_account(world_settings, lambda r: len(presentable(r)) >= 1))
    for url in (f"/desk/calls/{call_id}", f"/desk/calls/{call_id}/offers", f"/desk/calls/{call_id}/why-not"):
        whole = agent_client.get(url)
        assert whole.status_code == 200 and "<html" in whole.get_data(as_text=True)
        assert "HX-Request" in whole.headers.get("Vary", "")
        restored = agent_client.get(url, headers={**HX, "HX-History-Restore-Request": "true"})
        assert "<html" in restored.get_data(as_text=True)
    fragment = agent_client.get(f"/desk/calls/{call_id}/offers", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="offers"' in fragment
    why_not = agent_client.get(f"/desk/calls/{call_id}/why-not", headers=HX).get_data(as_text=True)
    assert "<html" not in why_not
    assert "why-not-list" in why_not or "Every active offer is permitted" in why_not
    page = agent_client.get(f"/desk/calls/{call_id}/why-not").get_data(as_text=True)
    assert '<details class="why-not" open' in page


def test_only_the_call_s_agent_or_a_supervisor_may_act_on_it(world_app, world_settings, db):
    owner = world_app.test_client()
    log_in(owner, *AGENT)
    call_id = start(owner, owned_account(world_settings, lambda r: len(presentable(r)) >= 1))
    code = presentable(db.get(Call, call_id).ranked)[0]

    other = world_app.test_client()
    log_in(other, "senior", "senior-demo-1")
    refused = post(other, f"/desk/calls/{call_id}/offers/{code}/present")
    assert refused.status_code == 403 and "belongs to another agent" in refused.get_data(as_text=True)
    assert post(other, f"/desk/calls/{call_id}/cancel").status_code == 403
    db.expire_all()
    assert db.execute(select(func.count()).where(CallOffer.call_id == call_id)).scalar_one() == 0
    assert db.get(Call, call_id).disposition is None

    signed_out = world_app.test_client()
    assert signed_out.get(f"/desk/calls/{call_id}").status_code in (302, 401)
    assert signed_out.post(f"/desk/calls/{call_id}/cancel").status_code in (302, 400, 401)
    db.expire_all()
    assert db.get(Call, call_id).disposition is None

    supervisor = world_app.test_client()
    log_in(supervisor, "supervisor", "supervisor-demo-1")
    assert post(supervisor, f"/desk/calls/{call_id}/offers/{code}/present").status_code == 200


def test_an_offer_above_the_agent_s_tier_waits_for_approval_then_can_be_presented(agent_client, world_settings, db):
    def gated(ranked: list[dict]) -> bool:
        return any(i["needs_approval"] for i in ranked)

    call_id = start(agent_client, owned_account(world_settings, gated))
    code = next(i["offer_code"] for i in db.get(Call, call_id).ranked if i["needs_approval"])
    direct = post(agent_client, f"/desk/calls/{call_id}/offers/{code}/present")
    assert direct.status_code == 422 and "needs a supervisor" in direct.get_data(as_text=True)

    asked = post(agent_client, f"/desk/calls/{call_id}/offers/{code}/approval").get_data(as_text=True)
    line = asked.split(f'id="offer-{code}"', 1)[1].split("</li>", 1)[0]
    assert 'hx-trigger="every 3s"' in line and "Waiting for a supervisor" in line
    post(agent_client, f"/desk/calls/{call_id}/offers/{code}/approval")  # asking twice is one request
    requests = db.execute(select(ApprovalRequest).where(ApprovalRequest.call_id == call_id)).scalars().all()
    assert len(requests) == 1

    supervisor = get_user_by_username(session=db, username="supervisor")
    decide(session=db, approver=supervisor, request_id=requests[0].id, approve=True)
    db.commit()
    polled = agent_client.get(f"/desk/calls/{call_id}/offers/{code}", headers=HX).get_data(as_text=True)
    assert polled.lstrip().startswith("<li") and "every 3s" not in polled and "Present" in polled
    assert post(agent_client, f"/desk/calls/{call_id}/offers/{code}/present").status_code == 200


def test_the_call_page_shows_the_risk_the_call_logged_not_a_second_score(agent_client, world_settings, db):
    call_id = start(agent_client, owned_account(world_settings))
    call = db.get(Call, call_id)
    assert call.risk_score is not None and call.reasons, "the call logged the risk its ranking used"
    # As if the model had changed since the call ranked its offers: the page must still show what the ranking used.
    call.risk_score, call.risk_band = 0.873, "high"
    db.commit()
    page = agent_client.get(f"/desk/calls/{call_id}").get_data(as_text=True)
    assert re.search(r'class="risk-value">87(\.3)?\s?%<', page), "the logged 87% is shown"
    assert "High risk" in page
