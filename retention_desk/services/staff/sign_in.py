"""Signing in and out. Attempts are counted per username and per client address in the database (shared by every
web node), one atomic count per attempt, so parallel guesses cannot all pass; signing out ends every session of the
user on every node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.domain.clock import utcnow
from retention_desk.services.audit import record_event
from retention_desk.services.staff.users import authenticate, get_user
from retention_desk.storage import users as stored
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
    name = username.strip().lower()[:80]
    window, now = timedelta(seconds=settings.login_window_seconds), utcnow()
    allowances = {f"user:{name}": settings.login_attempts}
    if ip:
        allowances[f"address:{ip}"] = settings.login_attempts_per_address
    counts = {key: stored.count_sign_in(session, key, now=now, window=window) for key in allowances}
    if any(counts[key] > allowance for key, allowance in allowances.items()):
        record_event(
            session=session,
            action="login_throttled",
            actor_name=name,
            entity_type="user",
            entity_id=name,
            ip=ip,
        )
        return SignIn(user=None, throttled=True)
    user = authenticate(session=session, username=username, password=password, ip=ip)
    if user is not None:  # only failures use up the allowance
        for key in allowances:
            stored.uncount_sign_in(session, key)
    return SignIn(user=user)


def sign_out(*, session: Session, user_id: int, ip: str | None) -> None:
    """End every session of this user, on every node (a copied cookie stops working too), and audit it."""
    user = get_user(session=session, user_id=user_id)
    stored.bump_session_version(session, user_id)
    record_event(session=session, action="logout", actor=user, entity_type="user", entity_id=user_id, ip=ip)
