"""Offers above an agent's authority: asked for once, decided once by someone allowed to, every step audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlmodel import Session

from retention_desk.services.audit import list_events
from retention_desk.services.calls.approvals import (
    ApprovalError,
    approved_for,
    decide,
    get_request,
    open_request,
    pending_requests,
    withdraw_request,
)
from retention_desk.services.catalog.files import load_offers
from retention_desk.services.catalog.store import upsert_offers
from retention_desk.storage.bulk import wipe_world
from retention_desk.storage.tables import Account, Call, OfferBudgetMonth, OfferHistory, User

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
# DISC30 (seed catalog): tier 2, at least 24 months with us and a monthly charge of at least 800.
ABOVE_TIER_1 = "DISC30"


def add_user(session: Session, username: str, *, role: str = "agent", tier: int = 1) -> User:
    user = User(username=username, display_name=username, password_hash="-", role=role, authority_tier=tier)
    session.add(user)
    session.flush()
    return user


@pytest.fixture()
def desk(session: Session) -> dict[str, object]:
    upsert_offers(session=session, offers=load_offers())
    account = Account(
        account_no="A-1",
        customer_since=date(2020, 1, 1),
        monthly_charge=Decimal("950"),
        plan_code="TRIO",
        contract_type="month_to_month",
    )
    young = Account(account_no="A-2", customer_since=date(2026, 6, 1), monthly_charge=Decimal("950"))
    session.add_all([account, young])
    session.flush()
    users = {
        "agent": add_user(session, "agent"),
        "other": add_user(session, "other"),
        "senior": add_user(session, "senior", tier=2),
        "supervisor": add_user(session, "supervisor", role="supervisor", tier=2),
        "junior_supervisor": add_user(session, "junior_supervisor", role="supervisor", tier=1),
    }
    session.commit()
    return {"account": account, "young": young, **users}


def ask(session: Session, desk: dict[str, object], **kwargs: object):  # noqa: ANN201
    kwargs.setdefault("agent", desk["agent"])
    kwargs.setdefault("account_id", desk["account"].id)
    kwargs.setdefault("offer_code", ABOVE_TIER_1)
    return open_request(session=session, now=NOW, **kwargs)


def test_asking_for_an_offer_above_the_agents_tier_queues_a_pending_request(session: Session, desk) -> None:
    request = ask(session, desk)
    session.commit()
    assert (request.status, request.offer_code, request.requested_by) == ("pending", "DISC30", desk["agent"].id)
    assert request.requested_at == NOW and request.decided_by is None
    assert pending_requests(session=session) == [request]
    assert get_request(session=session, request_id=request.id) is request
    [event] = list_events(session=session, action="approval_requested")
    assert (event.actor_name, event.entity_id, event.after["status"]) == ("agent", str(request.id), "pending")


def test_asking_again_for_the_same_call_and_offer_returns_the_pending_request(session: Session, desk) -> None:
    call = Call(idempotency_key="c-1", account_id=desk["account"].id, agent_id=desk["agent"].id, started_at=NOW)
    session.add(call)
    session.flush()
    first = ask(session, desk, call_id=call.id)
    again = ask(session, desk, call_id=call.id)
    assert again.id == first.id
    assert len(pending_requests(session=session)) == 1
    other_call = Call(idempotency_key="c-2", account_id=desk["account"].id, started_at=NOW)
    session.add(other_call)
    session.flush()
    assert ask(session, desk, call_id=other_call.id).id != first.id


def test_an_offer_the_account_may_not_get_cannot_be_asked_for_and_the_agent_hears_why(session: Session, desk) -> None:
    with pytest.raises(
        ApprovalError, match=r"^Offer DISC30 is not permitted for this account: needs 24 months with us"
    ):
        ask(session, desk, account_id=desk["young"].id)
    assert pending_requests(session=session) == []


def test_an_offer_within_the_agents_authority_needs_no_request(session: Session, desk) -> None:
    with pytest.raises(ApprovalError, match="Offer DISC10 needs no approval: agent may make it"):
        ask(session, desk, offer_code="DISC10")
    with pytest.raises(ApprovalError, match="needs no approval"):
        ask(session, desk, agent=desk["senior"])


def test_a_spent_budget_makes_the_offer_not_permitted(session: Session, desk) -> None:
    session.add(OfferBudgetMonth(offer_code="DISC30", month=date(2026, 11, 1), spent=Decimal("150000"), accepted=46))
    session.flush()
    with pytest.raises(ApprovalError, match="this month's budget is spent"):
        ask(session, desk)


def test_the_cooldown_counts_against_a_request(session: Session, desk) -> None:
    session.add(
        OfferHistory(
            account_id=desk["account"].id,
            offer_code="DISC10",
            offer_kind="percent_discount",
            offered_at=NOW - timedelta(days=20),
            response="declined",
        )
    )
    session.flush()
    with pytest.raises(ApprovalError, match="had a discount 20 days ago; wait 365 days"):
        ask(session, desk)


def test_unknown_offers_accounts_and_foreign_calls_are_named(session: Session, desk) -> None:
    with pytest.raises(ApprovalError, match="There is no offer 'NOPE' in the catalog"):
        ask(session, desk, offer_code="NOPE")
    with pytest.raises(ApprovalError, match="There is no account 999999"):
        ask(session, desk, account_id=999999)
    call = Call(idempotency_key="c-3", account_id=desk["young"].id, started_at=NOW)
    session.add(call)
    session.flush()
    with pytest.raises(ApprovalError, match=f"Call {call.id} is not a call of account {desk['account'].id}"):
        ask(session, desk, call_id=call.id)


def test_a_supervisor_approves_once_and_the_audit_log_has_before_and_after(session: Session, desk) -> None:
    request = ask(session, desk)
    later = NOW + timedelta(minutes=2)
    decided = decide(
        session=session, approver=desk["supervisor"], request_id=request.id, approve=True, note=" loyal ", now=later
    )
    session.commit()
    assert (decided.status, decided.decided_by, decided.decided_at, decided.note) == (
        "approved",
        desk["supervisor"].id,
        later,
        "loyal",
    )
    assert pending_requests(session=session) == []
    [event] = list_events(session=session, action="approval_approved")
    assert event.actor_name == "supervisor"
    assert event.before["status"] == "pending" and event.before["decided_by"] is None
    assert event.after["status"] == "approved" and event.after["note"] == "loyal"
    with pytest.raises(ApprovalError, match=f"Approval request {request.id} is already approved"):
        decide(session=session, approver=desk["supervisor"], request_id=request.id, approve=False, now=later)


def test_an_agent_whose_tier_covers_the_offer_may_deny_but_one_below_it_may_not(session: Session, desk) -> None:
    request = ask(session, desk)
    with pytest.raises(ApprovalError, match="other may not decide on offer DISC30"):
        decide(session=session, approver=desk["other"], request_id=request.id, approve=True, now=NOW)
    denied = decide(session=session, approver=desk["senior"], request_id=request.id, approve=False, now=NOW)
    assert denied.status == "denied"
    assert [e.action for e in list_events(session=session) if e.action.startswith("approval_")] == [
        "approval_denied",
        "approval_requested",
    ]


def test_a_disabled_user_cannot_decide(session: Session, desk) -> None:
    request = ask(session, desk)
    desk["supervisor"].active = False
    with pytest.raises(ApprovalError, match="may not decide"):
        decide(session=session, approver=desk["supervisor"], request_id=request.id, approve=True, now=NOW)


def test_a_long_note_is_refused_and_the_request_stays_pending(session: Session, desk) -> None:
    request = ask(session, desk)
    with pytest.raises(ApprovalError, match="A note holds at most 400 characters"):
        decide(
            session=session, approver=desk["supervisor"], request_id=request.id, approve=True, note="x" * 401, now=NOW
        )
    assert get_request(session=session, request_id=request.id).status == "pending"


def test_deciding_an_unknown_request_is_an_error(session: Session, desk) -> None:
    with pytest.raises(ApprovalError, match="There is no approval request 424242"):
        decide(session=session, approver=desk["supervisor"], request_id=424242, approve=True, now=NOW)


def test_the_asking_agent_may_withdraw_and_a_withdrawn_request_cannot_be_decided(session: Session, desk) -> None:
    request = ask(session, desk)
    with pytest.raises(ApprovalError, match="Only the agent who asked may withdraw"):
        withdraw_request(session=session, agent=desk["other"], request_id=request.id, now=NOW)
    assert withdraw_request(session=session, agent=desk["agent"], request_id=request.id, now=NOW).status == "withdrawn"
    with pytest.raises(ApprovalError, match="already withdrawn"):
        decide(session=session, approver=desk["supervisor"], request_id=request.id, approve=True, now=NOW)
    assert ask(session, desk).id != request.id  # a new request may follow


def test_the_pending_queue_is_oldest_first_and_limited(session: Session, desk) -> None:
    made = [
        open_request(
            session=session,
            agent=desk["agent"],
            account_id=desk["account"].id,
            offer_code=code,
            now=NOW + timedelta(minutes=i),
        )
        for i, code in enumerate(["LOYAL24", "DISC30", "CREDIT1000"])
    ]
    assert [r.offer_code for r in pending_requests(session=session)] == ["LOYAL24", "DISC30", "CREDIT1000"]
    assert pending_requests(session=session, limit=2) == made[:2]


def test_an_offer_counts_as_approved_for_a_call_only_once_approved_on_that_call(session: Session, desk) -> None:
    call = Call(idempotency_key="c-4", account_id=desk["account"].id, started_at=NOW)
    session.add(call)
    session.flush()
    request = ask(session, desk, call_id=call.id)
    assert not approved_for(session=session, call_id=call.id, offer_code="DISC30")
    decide(session=session, approver=desk["supervisor"], request_id=request.id, approve=True, now=NOW)
    assert approved_for(session=session, call_id=call.id, offer_code="DISC30")
    assert not approved_for(session=session, call_id=call.id, offer_code="LOYAL24")


def test_a_new_synthetic_world_starts_without_requests_or_budget_counters(session: Session, desk, db_url: str) -> None:
    ask(session, desk)
    session.add(OfferBudgetMonth(offer_code="DISC10", month=date(2026, 11, 1), spent=Decimal("420"), accepted=1))
    session.commit()
    wipe_world(db_url)  # what re-seeding does first; on PostgreSQL a TRUNCATE that must name every dependent table
    session.expire_all()
    assert pending_requests(session=session) == []
    assert session.execute(select(OfferBudgetMonth)).first() is None


def test_four_eyes_nobody_approves_their_own_request_and_the_approver_s_tier_must_cover_the_offer(
    session: Session, desk
) -> None:
    own = ask(session, desk, agent=desk["junior_supervisor"])
    with pytest.raises(ApprovalError, match="their own request"):
        decide(session=session, approver=desk["junior_supervisor"], request_id=own.id, approve=True, now=NOW)
    withdraw_request(session=session, agent=desk["junior_supervisor"], request_id=own.id, now=NOW)
    request = ask(session, desk)
    with pytest.raises(ApprovalError, match="may not decide"):
        decide(session=session, approver=desk["junior_supervisor"], request_id=request.id, approve=True, now=NOW)
    assert get_request(session=session, request_id=request.id).status == "pending"
    decided = decide(session=session, approver=desk["senior"], request_id=request.id, approve=True, now=NOW)
    assert decided.status == "approved" and decided.decided_by == desk["senior"].id
