"""The signed-in user as the web layer keeps it: a plain copy, so no database row outlives its request."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from flask_login import UserMixin

from retention_desk.services.staff.users import get_user
from retention_desk.web.context import db_session

_SESSION_ID = re.compile(r"([0-9]{1,10}):([0-9]{1,10})", re.ASCII)


@dataclass(frozen=True)
class DeskUser(UserMixin):
    id: int
    username: str
    display_name: str
    role: str
    authority_tier: int
    locale: str
    active: bool
    session_version: int

    @classmethod
    def from_row(cls, user: object) -> DeskUser:
        """The fields of this class, copied from a user as the user service returns one."""
        return cls(**{**{f.name: getattr(user, f.name) for f in fields(cls)}, "id": getattr(user, "id", None) or 0})

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def can_supervise(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        """What the signed session cookie keeps: the user and the session version they signed in under."""
        return f"{self.id}:{self.session_version}"


def load_user(user_id: str) -> DeskUser | None:
    """Flask-Login's loader: a session signed in under an older version (signed out since, a new password, a
    disabled user) or of a deleted user is no session at all."""
    found = _SESSION_ID.fullmatch(user_id or "")
    if found is None:
        return None
    user = get_user(session=db_session(), user_id=int(found[1]))
    if user is None or not user.active or user.session_version != int(found[2]):
        return None
    return DeskUser.from_row(user)
