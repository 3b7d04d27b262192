"""Approval requests: the pending queue, a call's requests, and the conditional updates that decide them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from retention_desk.domain.vocabulary import APPROVED, PENDING
from retention_desk.storage.tables import Account, ApprovalRequest, Offer, User


def approval_requests_of_call(session: Session, call_id: int) -> list[tuple[ApprovalRequest, str, str | None]]:
    """The call's approval requests, each with who asked and who decided."""
    asker, decider = User.__table__.alias("asker"), User.__table__.alias("decider")
    stmt = (
        select(ApprovalRequest, asker.c.display_name, decider.c.display_name)
        .join(asker, asker.c.id == ApprovalRequest.requested_by)
        .outerjoin(decider, decider.c.id == ApprovalRequest.decided_by)
        .where(ApprovalRequest.call_id == call_id)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    )
    return [(r, a, d) for r, a, d in session.execute(stmt).all()]


def pending_approvals(session: Session, *, limit: int) -> list[tuple[ApprovalRequest, Account, User, Offer | None]]:
    """The pending requests, oldest first (``ix_approval_requests_status_requested``), with account, agent, offer."""
    stmt = (
        select(ApprovalRequest, Account, User, Offer)
        .join(Account, Account.id == ApprovalRequest.account_id)
        .join(User, User.id == ApprovalRequest.requested_by)
        .outerjoin(Offer, Offer.code == ApprovalRequest.offer_code)
        .where(ApprovalRequest.status == PENDING)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        .limit(limit)
    )
    return [(r, a, u, o) for r, a, u, o in session.execute(stmt).all()]


def pending_request(
    session: Session, *, account_id: int, offer_code: str, call_id: int | None
) -> ApprovalRequest | None:
    """The pending request for this offer on this call (or, without a call, on the account), if any."""
    return session.execute(
        select(ApprovalRequest).where(
            ApprovalRequest.account_id == account_id,
            ApprovalRequest.offer_code == offer_code,
            ApprovalRequest.status == PENDING,
            ApprovalRequest.call_id.is_(None) if call_id is None else ApprovalRequest.call_id == call_id,
        )
    ).scalar_one_or_none()


def pending_requests(session: Session, *, limit: int = 100) -> list[ApprovalRequest]:
    """The pending requests, oldest first."""
    return list(
        session.execute(
            select(ApprovalRequest)
            .where(ApprovalRequest.status == PENDING)
            .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
            .limit(limit)
        ).scalars()
    )


def requests_of_call(session: Session, call_id: int) -> list[ApprovalRequest]:
    """Every request made on the call, oldest first."""
    stmt = select(ApprovalRequest).where(ApprovalRequest.call_id == call_id).order_by(ApprovalRequest.id)
    return list(session.execute(stmt).scalars())


def is_approved(session: Session, *, call_id: int, offer_code: str) -> bool:
    found = session.execute(
        select(ApprovalRequest.id)
        .where(
            ApprovalRequest.call_id == call_id,
            ApprovalRequest.offer_code == offer_code,
            ApprovalRequest.status == APPROVED,
        )
        .limit(1)
    ).first()
    return found is not None


def close_request(
    session: Session, request_id: int, *, status: str, decided_by: int | None, decided_at: datetime, note: str
) -> bool:
    """Move a pending request to ``status`` with one conditional UPDATE, so two deciders cannot both succeed."""
    result = session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request_id, ApprovalRequest.status == PENDING)
        .values(status=status, decided_by=decided_by, decided_at=decided_at, note=note)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
