"""The audit log: pages of it (or all of it as a stream), one offer's, one account's or the models' events, failed
sign-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlmodel import Session

from retention_desk.storage.db import session_scope
from retention_desk.storage.tables import ApprovalRequest, AuditEvent


def offer_audit_events(session: Session, code: str, *, limit: int = 50) -> list[AuditEvent]:
    """The audit rows of one offer, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == "offer", AuditEvent.entity_id == code)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def about_account(account_id: int) -> ColumnElement[bool]:
    """Audit rows about one account: the account's own (views, exports, erasure) and its approval requests'.

    Served by ``ix_audit_events_entity_at`` (entity type, entity id, time).
    """
    requests = select(cast(ApprovalRequest.id, String)).where(ApprovalRequest.account_id == account_id)
    return or_(
        and_(AuditEvent.entity_type == "account", AuditEvent.entity_id == str(account_id)),
        and_(AuditEvent.entity_type == "approval_request", AuditEvent.entity_id.in_(requests.scalar_subquery())),
    )


def _events_select(
    *,
    action: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
) -> Select[Any]:
    """The log's rows matching the filters, newest first (the id breaks ties, so the order is total)."""
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_name:
        stmt = stmt.where(AuditEvent.actor_name == actor_name)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if account_id is not None:
        stmt = stmt.where(about_account(account_id))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def audit_events_page(
    session: Session,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[AuditEvent]:
    """One page of the audit log, newest first, filtered in SQL (asks for ``limit`` rows)."""
    stmt = _events_select(action=action, actor_name=actor_name, since=since, until=until, account_id=account_id)
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def audit_events_stream(
    session: Session,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    account_id: int | None = None,
    chunk: int = 1000,
) -> Iterator[list[AuditEvent]]:
    """Every matching row, newest first, in chunks read through a server-side cursor (never all at once)."""
    stmt = _events_select(action=action, actor_name=actor_name, since=since, until=until, account_id=account_id)
    result = session.execute(stmt.execution_options(yield_per=chunk))
    try:
        for partition in result.scalars().partitions():
            yield list(partition)
    finally:
        result.close()


def audit_actions(session: Session) -> list[str]:
    """The distinct actions in the audit log, for the filter list."""
    return list(session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def model_audit_events(session: Session, *, limit: int = 10) -> list[AuditEvent]:
    """The newest audit rows about model versions (promotions and roll-backs), newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == "model_version")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def latest_audit_event(session: Session, action: str) -> AuditEvent | None:
    """The newest audit row of this action (e.g. the nightly job's last run)."""
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return session.execute(stmt.limit(1)).scalars().first()


def recent_events(session: Session, *, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    """The newest events, optionally of one action."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.execute(stmt).scalars())


def record_at_once(url: str, *, action: str, entity_type: str, entity_id: str, detail: str) -> None:
    """An audit row committed at once in a transaction of its own, by the system: for what must be kept whatever
    becomes of the request that met it (a model file found tampered with and healed)."""
    with session_scope(url) as session:
        session.add(
            AuditEvent(
                action=action,
                actor_name="retention-desk",
                entity_type=entity_type,
                entity_id=entity_id,
                detail=detail[:400],
            )
        )
