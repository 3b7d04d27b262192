"""The supervisors' approval queue: pending requests, oldest first, with what a decision needs to be made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from retention_desk.domain.i18n import _
from retention_desk.services.calls.approvals import ApprovalError, decide
from retention_desk.services.staff.users import get_user
from retention_desk.storage import approvals
from retention_desk.storage.tables import ApprovalRequest

QUEUE_LIMIT = 100


@dataclass(frozen=True)
class QueuedRequest:
    id: int
    requested_at: datetime
    account_id: int
    account_no: str
    customer: str
    agent: str
    agent_tier: int
    offer_code: str
    offer_name: str
    offer_tier: int | None
    call_id: int | None


def approval_queue(*, session: Session, limit: int = QUEUE_LIMIT) -> list[QueuedRequest]:
    """What waits for a decision; the agent's call page polls its own request, so deciding here updates it."""
    return [
        QueuedRequest(
            id=r.id or 0,
            requested_at=r.requested_at,
            account_id=a.id or 0,
            account_no=a.account_no,
            customer=f"{a.first_name} {a.last_name}".strip(),
            agent=u.display_name,
            agent_tier=u.authority_tier,
            offer_code=r.offer_code,
            offer_name=o.name if o else r.offer_code,
            offer_tier=o.authority_tier if o else None,
            call_id=r.call_id,
        )
        for r, a, u, o in approvals.pending_approvals(session, limit=limit)
    ]


def decide_request(
    *, session: Session, request_id: int, approver_id: int, approve: bool, note: str = ""
) -> ApprovalRequest:
    """Approve or deny on behalf of the signed-in user; ApprovalError says why not (e.g. already decided)."""
    approver = get_user(session=session, user_id=approver_id)
    if approver is None:
        raise ApprovalError(_("Only an active user may decide on a request."))
    return decide(session=session, approver=approver, request_id=request_id, approve=approve, note=note)
