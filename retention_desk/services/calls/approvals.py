"""Requests to make an offer above the agent's authority tier, and the decisions on them.

An agent may ask only for an offer that is permitted for the account and above their own tier. Four eyes: the
decision is made by someone else, whose own tier covers the offer (a supervisor's role alone is not enough); each
request is decided once, by one conditional update, however many decide at once. Approval does not touch the
offer's budget: the budget is reserved when the caller accepts (the call service).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from retention_desk.domain.catalog import OfferSpec
from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.domain.vocabulary import APPROVED, DENIED, PENDING, WITHDRAWN
from retention_desk.offers.eligibility import Verdict, check_offer, facts_from_snapshot
from retention_desk.offers.words import describe_refusal
from retention_desk.services.audit import record_event
from retention_desk.services.catalog.store import offers_in_database
from retention_desk.services.staff.users import can_supervise
from retention_desk.storage import approvals as stored
from retention_desk.storage.budgets import budget_left, budget_month
from retention_desk.storage.tables import ApprovalRequest, Call, User
from retention_desk.storage.training_data import load_account_snapshot

MAX_NOTE = 400


class ApprovalError(ValueError):
    """An approval request cannot be made or decided as asked; the message is one sentence for the person."""


def open_request(
    *,
    session: Session,
    agent: User,
    account_id: int,
    offer_code: str,
    call_id: int | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Ask for a permitted offer above the agent's tier; asking again while it is pending returns the same request."""
    now = now or utcnow()
    offer = _offer(session, offer_code)
    if call_id is not None:
        call = session.get(Call, call_id)
        if call is None or call.account_id != account_id:
            raise ApprovalError(
                _("Call %(call)s is not a call of account %(account)s.", call=call_id, account=account_id)
            )
    verdict = _verdict(session, offer, account_id=account_id, agent=agent, now=now)
    if not verdict.permitted:
        reasons = "; ".join(describe_refusal(r) for r in verdict.refusals)
        raise ApprovalError(
            _("Offer %(code)s is not permitted for this account: %(reasons)s.", code=offer.code, reasons=reasons)
        )
    if not verdict.needs_approval:
        raise ApprovalError(
            _("Offer %(code)s needs no approval: %(user)s may make it.", code=offer.code, user=agent.username)
        )
    existing = stored.pending_request(session, account_id=account_id, offer_code=offer.code, call_id=call_id)
    if existing is not None:
        return existing
    request = ApprovalRequest(
        account_id=account_id,
        call_id=call_id,
        offer_code=offer.code,
        requested_by=agent.id,
        requested_at=now,
        status=PENDING,
    )
    session.add(request)
    session.flush()
    record_event(
        session=session,
        action="approval_requested",
        actor=agent,
        entity_type="approval_request",
        entity_id=request.id,
        after=_state(request),
    )
    return request


def decide(
    *,
    session: Session,
    approver: User,
    request_id: int,
    approve: bool,
    note: str = "",
    now: datetime | None = None,
) -> ApprovalRequest:
    """Approve or deny a pending request; deciding one that is no longer pending raises ApprovalError."""
    now = now or utcnow()
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ApprovalError(_("A note holds at most %(num)s characters.", num=MAX_NOTE))
    request = _pending(session, request_id)
    if approver.id == request.requested_by:
        raise ApprovalError(_("Nobody may decide on their own request: another person must approve it."))
    offer = next((o for o in offers_in_database(session=session) if o.code == request.offer_code), None)
    if not approver.active or offer is None or approver.authority_tier < offer.authority_tier:
        raise ApprovalError(
            _("%(user)s may not decide on offer %(code)s.", user=approver.username, code=request.offer_code)
        )
    status = APPROVED if approve else DENIED
    return _close(session, request, actor=approver, status=status, note=note, now=now)


def withdraw_request(*, session: Session, agent: User, request_id: int, now: datetime | None = None) -> ApprovalRequest:
    """The requesting agent (or a supervisor) takes back a pending request, e.g. when the caller hangs up."""
    request = _pending(session, request_id)
    if agent.id != request.requested_by and not can_supervise(agent):
        raise ApprovalError(_("Only the agent who asked may withdraw approval request %(id)s.", id=request_id))
    return _close(session, request, actor=agent, status=WITHDRAWN, note="", now=now or utcnow())


def pending_requests(*, session: Session, limit: int = 100) -> list[ApprovalRequest]:
    """The queue a supervisor works through, oldest first."""
    return stored.pending_requests(session, limit=limit)


def get_request(*, session: Session, request_id: int) -> ApprovalRequest | None:
    return session.get(ApprovalRequest, request_id)


def approved_for(*, session: Session, call_id: int, offer_code: str) -> bool:
    """Whether the offer was approved for this call, so the agent may now present it."""
    return stored.is_approved(session, call_id=call_id, offer_code=offer_code)


def _offer(session: Session, offer_code: str) -> OfferSpec:
    offer = next((o for o in offers_in_database(session=session) if o.code == offer_code), None)
    if offer is None:
        raise ApprovalError(_("There is no offer %(code)r in the catalog.", code=offer_code))
    return offer


def _verdict(session: Session, offer: OfferSpec, *, account_id: int, agent: User, now: datetime) -> Verdict:
    snapshot = load_account_snapshot(session, account_id)
    if snapshot is None:
        raise ApprovalError(_("There is no account %(id)s.", id=account_id))
    today = now.date()
    left = budget_left(session, [offer], budget_month(now))[offer.code]
    facts = facts_from_snapshot(snapshot, today)
    return check_offer(offer, facts, today=today, agent_tier=agent.authority_tier, budget_left=left)


def _pending(session: Session, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise ApprovalError(_("There is no approval request %(id)s.", id=request_id))
    if request.status != PENDING:
        raise ApprovalError(_("Approval request %(id)s is already %(status)s.", id=request_id, status=request.status))
    return request


def _close(
    session: Session, request: ApprovalRequest, *, actor: User, status: str, note: str, now: datetime
) -> ApprovalRequest:
    """Move a pending request to ``status`` with one conditional update, so two deciders cannot both succeed."""
    before = _state(request)
    closed = stored.close_request(
        session, request.id or 0, status=status, decided_by=actor.id, decided_at=now, note=note
    )
    if not closed:
        session.refresh(request)
        raise ApprovalError(_("Approval request %(id)s is already %(status)s.", id=request.id, status=request.status))
    session.refresh(request)
    record_event(
        session=session,
        action=f"approval_{status}",
        actor=actor,
        entity_type="approval_request",
        entity_id=request.id,
        before=before,
        after=_state(request),
    )
    return request


def _state(request: ApprovalRequest) -> dict[str, Any]:
    """What the audit log keeps of a request."""
    return {
        "account_id": request.account_id,
        "call_id": request.call_id,
        "offer_code": request.offer_code,
        "requested_by": request.requested_by,
        "status": request.status,
        "decided_by": request.decided_by,
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "note": request.note,
    }
