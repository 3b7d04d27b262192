"""The audit log: pages of it, one offer's or the models' events, failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.storage.db import session_scope
from retention_desk.storage.tables import AuditEvent


def offer_audit_events(session: Session, code: str, *, limit: int = 50) -> list[AuditEvent]:
    """The audit rows of one offer, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == "offer", AuditEvent.entity_id == code)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def audit_events_page(
    session: Session,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[AuditEvent]:
    """One page of the audit log, newest first, filtered in SQL (asks for ``limit`` rows)."""
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_name:
        stmt = stmt.where(AuditEvent.actor_name == actor_name)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)
    return list(session.execute(stmt).scalars())


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
