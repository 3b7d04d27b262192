"""The signed-in user as the web layer keeps it: a plain copy, so no database row outlives its request."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask_login import UserMixin

from retention_desk.services.staff.users import get_user
from retention_desk.web.context import db_session


@dataclass(frozen=True)
class DeskUser(UserMixin):
    id: int
    username: str
    display_name: str
    role: str
    authority_tier: int
    locale: str
    active: bool

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
        return str(self.id)


def load_user(user_id: str) -> DeskUser | None:
    """Flask-Login's loader: a disabled or deleted user is signed out on their next request."""
    if not user_id.isdigit():
        return None
    user = get_user(session=db_session(), user_id=int(user_id))
    if user is None or not user.active:
        return None
    return DeskUser.from_row(user)
