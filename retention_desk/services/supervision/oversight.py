"""What supervisors and admins read and change: the audit log (filtered and paged in SQL) and the users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from retention_desk.services.staff.users import UserIn, create_user, get_user
from retention_desk.storage import audit, users
from retention_desk.storage.tables import User

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_name: str | None = None
    date_from: date | None = None  # inclusive, UTC day
    date_to: date | None = None  # inclusive, UTC day


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    ip: str | None
    detail: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    has_next: bool
    actions: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: str
    authority_tier: int
    team: str | None
    locale: str
    active: bool
    last_login_at: datetime | None


def audit_log_page(*, session: Session, filters: AuditFilter, page: int = 1, page_size: int = PAGE_SIZE) -> AuditPage:
    """One page of the log, newest first; one extra row is read to know whether a next page exists."""
    page = max(page, 1)
    rows = audit.audit_events_page(
        session,
        action=filters.action or None,
        actor_name=(filters.actor_name or "").strip().lower() or None,
        since=_day_start(filters.date_from),
        until=_day_start(filters.date_to + timedelta(days=1)) if filters.date_to else None,
        offset=(page - 1) * page_size,
        limit=page_size + 1,
    )
    return AuditPage(
        rows=[
            AuditRow(
                id=e.id or 0,
                at=e.at,
                actor_name=e.actor_name,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                ip=e.ip,
                detail=e.detail,
                before=e.before,
                after=e.after,
            )
            for e in rows[:page_size]
        ],
        page=page,
        has_next=len(rows) > page_size,
        actions=audit.audit_actions(session),
    )


def list_users(*, session: Session) -> list[UserRow]:
    return [
        UserRow(
            id=u.id or 0,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            authority_tier=u.authority_tier,
            team=u.team,
            locale=u.locale,
            active=u.active,
            last_login_at=u.last_login_at,
        )
        for u in users.all_users(session)
    ]


def add_user(*, session: Session, user_in: UserIn, actor_id: int) -> User:
    """Create a user on behalf of the signed-in admin, so the audit log names who did it."""
    return create_user(session=session, user_in=user_in, actor=get_user(session=session, user_id=actor_id))


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None
