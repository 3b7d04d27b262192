"""Users, roles and authority tiers; passwords hashed with Werkzeug's scrypt."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from retention_desk.domain.clock import utcnow
from retention_desk.services.audit import record_event
from retention_desk.storage import users as stored
from retention_desk.storage.tables import User

ROLES = ("agent", "supervisor", "admin")
MIN_PASSWORD_LENGTH = 8
# Checked against when the user does not exist, so a wrong username costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


class UserError(ValueError):
    """Bad user input; the message is shown to the person as it is."""


@dataclass(frozen=True)
class UserIn:
    username: str
    password: str
    role: str = "agent"
    display_name: str = ""
    authority_tier: int = 1
    team: str | None = None
    locale: str = "en"

    def validated(self) -> UserIn:
        name = self.username.strip().lower()
        if not name or len(name) > 80 or not all(c.isalnum() or c in "._-@" for c in name):
            raise UserError("A username is 1–80 letters, digits or . _ - @.")
        if self.role not in ROLES:
            raise UserError(f"The role must be one of {', '.join(ROLES)}, not {self.role!r}.")
        if len(self.password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
        if not 1 <= self.authority_tier <= 3:
            raise UserError("The authority tier must be 1, 2 or 3.")
        return UserIn(
            username=name,
            password=self.password,
            role=self.role,
            display_name=self.display_name.strip() or name,
            authority_tier=self.authority_tier,
            team=self.team,
            locale=self.locale,
        )


def user_snapshot(user: User) -> dict:
    """What the audit log keeps of a user (never the hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "authority_tier": user.authority_tier,
        "team": user.team,
        "active": user.active,
    }


def create_user(*, session: Session, user_in: UserIn, actor: User | None = None) -> User:
    data = user_in.validated()
    if get_user_by_username(session=session, username=data.username) is not None:
        raise UserError(f"A user named {data.username!r} already exists.")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=generate_password_hash(data.password),
        role=data.role,
        authority_tier=data.authority_tier,
        team=data.team,
        locale=data.locale,
    )
    session.add(user)
    session.flush()
    record_event(
        session=session,
        action="user_created",
        actor=actor,
        actor_name=None if actor else "cli",
        entity_type="user",
        entity_id=user.id or "",
        after=user_snapshot(user),
    )
    return user


def set_password(*, session: Session, username: str, password: str, actor: User | None = None) -> User:
    """A new password; every session signed in with the old one ends, on every node."""
    user = _existing(session, username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = generate_password_hash(password)
    session.flush()
    stored.bump_session_version(session, user.id or 0)
    _audit_change(session, "user_password_changed", user, actor)
    return user


def set_active(*, session: Session, username: str, active: bool, actor: User | None = None) -> User:
    """Disable (or enable again) a user; disabling ends every session of theirs at once."""
    user = _existing(session, username)
    user.active = active
    session.flush()
    if not active:
        stored.bump_session_version(session, user.id or 0)
    _audit_change(session, "user_enabled" if active else "user_disabled", user, actor)
    return user


def _existing(session: Session, username: str) -> User:
    user = get_user_by_username(session=session, username=username)
    if user is None:
        raise UserError(f"There is no user named {username.strip().lower()!r}.")
    return user


def _audit_change(session: Session, action: str, user: User, actor: User | None) -> None:
    session.refresh(user)
    record_event(
        session=session,
        action=action,
        actor=actor,
        actor_name=None if actor else "cli",
        entity_type="user",
        entity_id=user.id or "",
        after=user_snapshot(user),
    )


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return stored.user_by_username(session, username)


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def authenticate(*, session: Session, username: str, password: str, ip: str | None = None) -> User | None:
    """The user if the password is right and the account active; audits both outcomes."""
    user = get_user_by_username(session=session, username=username)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        record_event(
            session=session,
            action="login_failed",
            actor_name=username.strip().lower()[:80],
            entity_type="user",
            entity_id=username.strip().lower()[:80],
            ip=ip,
        )
        return None
    user.last_login_at = utcnow()
    record_event(session=session, action="login", actor=user, entity_type="user", entity_id=user.id or "", ip=ip)
    return user


def can_supervise(user: User) -> bool:
    return user.role in ("supervisor", "admin")


def is_admin(user: User) -> bool:
    return user.role == "admin"
