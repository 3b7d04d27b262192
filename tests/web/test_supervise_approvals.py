"""The approval queue: pending requests oldest first, approve or deny with a note, refusals stored nowhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from retention_desk.storage.tables import ApprovalRequest, AuditEvent
from tests.web.sign_in_helpers import csrf_token, log_in
from tests.web.supervise_helpers import add_request, logged_desk


@pytest.fixture()
def queue(client, session):
    ids = logged_desk(session)
    ids["older"] = add_request(session, account_id=ids["acc1"], agent_id=ids["anna"], call_id=ids["call3"])
    ids["newer"] = add_request(session, account_id=ids["acc2"], agent_id=ids["bo"], call_id=None, offer="CREDIT1000")
    log_in(client, "siri")
    ids["token"] = csrf_token(client, "/supervise/approvals")
    return ids


def _request(session, request_id: int) -> ApprovalRequest:
    session.expire_all()
    return session.get(ApprovalRequest, request_id)


def test_the_queue_lists_pending_requests_oldest_first_with_account_agent_offer_and_call(client, queue):
    html = client.get("/supervise/approvals").get_data(as_text=True)
    assert html.index(f'id="request-{queue["older"]}"') < html.index(f'id="request-{queue["newer"]}"')
    assert "A-1" in html and "Anna" in html and "DISC30" in html and f"/supervise/calls/{queue['call3']}" in html
    assert 'hx-trigger="every 5s"' in html


def test_htmx_polls_for_the_list_alone(client, queue):
    html = client.get("/supervise/approvals", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="approvals"') and "<html" not in html


def test_approving_with_a_note_decides_the_request_and_audits_it(client, session, queue):
    form = {"csrf_token": queue["token"], "decision": "approve", "note": "Long-standing customer."}
    response = client.post(f"/supervise/approvals/{queue['older']}", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="request-{queue["older"]}"' not in html and f'id="request-{queue["newer"]}"' in html
    assert "approved" in html
    request = _request(session, queue["older"])
    assert (request.status, request.note, request.decided_by) == ("approved", "Long-standing customer.", queue["siri"])
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "approval_approved")).scalar_one()
    assert event.actor_name == "siri" and event.before["status"] == "pending"


def test_denying_without_htmx_redirects_back_to_the_queue(client, session, queue):
    response = client.post(
        f"/supervise/approvals/{queue['newer']}", data={"csrf_token": queue["token"], "decision": "deny"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/supervise/approvals")
    assert _request(session, queue["newer"]).status == "denied"
    assert "No requests are waiting." not in client.get("/supervise/approvals").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "words"),
    [({"decision": "maybe"}, "Choose approve or deny."), ({"decision": "approve", "note": "x" * 401}, "at most 400")],
)
def test_a_bad_decision_is_refused_and_nothing_changes(client, session, queue, form, words):
    response = client.post(f"/supervise/approvals/{queue['older']}", data={"csrf_token": queue["token"], **form})
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert _request(session, queue["older"]).status == "pending"


def test_a_request_is_decided_once(client, session, queue):
    url = f"/supervise/approvals/{queue['older']}"
    assert client.post(url, data={"csrf_token": queue["token"], "decision": "deny"}).status_code == 303
    again = client.post(url, data={"csrf_token": queue["token"], "decision": "approve"})
    assert again.status_code == 422 and "already denied" in again.get_data(as_text=True)
    assert _request(session, queue["older"]).status == "denied"
    missing = client.post("/supervise/approvals/999999", data={"csrf_token": queue["token"], "decision": "deny"})
    assert missing.status_code == 422 and "no approval request 999999" in missing.get_data(as_text=True)


def test_a_decision_without_a_csrf_token_is_refused(client, session, queue):
    assert client.post(f"/supervise/approvals/{queue['older']}", data={"decision": "approve"}).status_code == 400
    assert _request(session, queue["older"]).status == "pending"
