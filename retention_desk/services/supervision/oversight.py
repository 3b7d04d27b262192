"""What supervisors and admins read and change: the audit log (filtered and paged in SQL; by account: who looked at
this subscriber) and the users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from retention_desk.domain.i18n import _
from retention_desk.services.staff.users import UserIn, create_user, get_user
from retention_desk.storage import accounts, audit, users
from retention_desk.storage.tables import Account, User

PAGE_SIZE = 50


class AuditFilterError(ValueError):
    """A filter of the audit log names nothing that exists; the message says which."""


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_name: str | None = None
    date_from: date | None = None  # inclusive, UTC day
    date_to: date | None = None  # inclusive, UTC day
    account: str | None = None  # an account number, or an account id


@dataclass(frozen=True)
class AuditQuery:
    """A filter resolved to what storage selects on: the account as its id, the dates as UTC instants."""

    action: str | None
    actor_name: str | None
    since: datetime | None
    until: datetime | None
    account_id: int | None
    account_no: str | None

    def selection(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "actor_name": self.actor_name,
            "since": self.since,
            "until": self.until,
            "account_id": self.account_id,
        }


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
    account_no: str | None = None  # the account the log is filtered by
    error: str | None = None  # the filter names no account: no rows are shown

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
    actions = audit.audit_actions(session)
    try:
        query = resolve_audit_filter(session=session, filters=filters)
    except AuditFilterError as exc:
        return AuditPage(rows=[], page=page, has_next=False, actions=actions, error=str(exc))
    rows = audit.audit_events_page(session, **query.selection(), offset=(page - 1) * page_size, limit=page_size + 1)
    return AuditPage(
        rows=[audit_row(e) for e in rows[:page_size]],
        page=page,
        has_next=len(rows) > page_size,
        actions=actions,
        account_no=query.account_no,
    )


def resolve_audit_filter(*, session: Session, filters: AuditFilter) -> AuditQuery:
    """The filter as storage selects on it; AuditFilterError when it names an account that does not exist."""
    account = _account(session, (filters.account or "").strip())
    return AuditQuery(
        action=filters.action or None,
        actor_name=(filters.actor_name or "").strip().lower() or None,
        since=_day_start(filters.date_from),
        until=_day_start(filters.date_to + timedelta(days=1)) if filters.date_to else None,
        account_id=account.id if account else None,
        account_no=account.account_no if account else None,
    )


def audit_row(event: Any) -> AuditRow:
    return AuditRow(
        id=event.id or 0,
        at=event.at,
        actor_name=event.actor_name,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        ip=event.ip,
        detail=event.detail,
        before=event.before,
        after=event.after,
    )


def _account(session: Session, text: str) -> Account | None:
    """The account a filter names: by its number first (numbers are often digits too), else by its id."""
    if not text:
        return None
    found = next(iter(accounts.accounts_by_keys(session, account_no=text, limit=1)), None)
    if found is None and text.isascii() and text.isdigit() and 0 < int(text) <= accounts.MAX_ID:
        found = session.get(Account, int(text))
    if found is None:
        raise AuditFilterError(_("No account has the number or id %(value)s.", value=repr(text[:40])))
    return found


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
