"""The audit log: every sign-in and every change, with who, when, and the before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from retention_desk.storage import audit as stored
from retention_desk.storage.tables import AuditEvent, User


def record_event(
    *,
    session: Session,
    action: str,
    actor: User | None = None,
    actor_name: str | None = None,
    entity_type: str = "",
    entity_id: str | int = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit row to the caller's transaction, so the change and its record commit together."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_name=actor_name if actor_name is not None else (actor.username if actor else ""),
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        ip=ip,
        detail=detail[:400],
    )
    session.add(event)
    return event


ACCOUNT_VIEWED = "account_viewed"


@dataclass(frozen=True)
class Viewer:
    """Who opened a page that shows an account, from where, and which page (method and path, no query string)."""

    user_id: int
    username: str
    route: str
    ip: str | None = None


def record_account_view(*, session: Session, account_id: int, viewer: Viewer) -> AuditEvent:
    """One audit row for one opening of a page that shows the account: "who looked at this subscriber?"."""
    event = AuditEvent(
        action=ACCOUNT_VIEWED,
        actor_id=viewer.user_id,
        actor_name=viewer.username[:80],
        entity_type="account",
        entity_id=str(account_id),
        ip=viewer.ip,
        detail=viewer.route[:400],
    )
    session.add(event)
    return event


def list_events(*, session: Session, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    """The newest events, optionally of one action."""
    return stored.recent_events(session, limit=limit, action=action)
