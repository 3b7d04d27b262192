"""Signing in and out, with failed attempts throttled through the audit log (shared by every web node)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.services.audit import recent_failed_logins, record_event
from retention_desk.services.staff.users import authenticate, get_user
from retention_desk.storage.tables import User


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: a user, a refusal, or a refusal because of too many failures."""

    user: User | None
    throttled: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def sign_in(*, session: Session, settings: Settings, username: str, password: str, ip: str | None) -> SignIn:
    """Refuse without looking at the password once this username or address failed too often lately.

    An address gets a larger allowance than a username: a whole call centre often signs in from behind one NAT,
    and one agent's typos must not lock out the floor.
    """
    by_name, by_ip = recent_failed_logins(
        session=session, username=username, ip=ip, window=timedelta(seconds=settings.login_window_seconds)
    )
    if by_name >= settings.login_attempts or by_ip >= settings.login_attempts_per_address:
        record_event(
            session=session,
            action="login_throttled",
            actor_name=username.strip().lower()[:80],
            entity_type="user",
            entity_id=username.strip().lower()[:80],
            ip=ip,
        )
        return SignIn(user=None, throttled=True)
    return SignIn(user=authenticate(session=session, username=username, password=password, ip=ip))


def sign_out(*, session: Session, user_id: int, ip: str | None) -> None:
    """Audit the sign-out (the session cookie itself is cleared by the web layer)."""
    user = get_user(session=session, user_id=user_id)
    record_event(session=session, action="logout", actor=user, entity_type="user", entity_id=user_id, ip=ip)
