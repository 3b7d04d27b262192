"""Desk users: by name, all of them, and the agents and teams a filter lists."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.storage.tables import User


def agents_and_teams(session: Session) -> tuple[list[tuple[int, str]], list[str]]:
    """Desk users who may take calls (id, name) and the teams, for the log's filter lists."""
    users = session.execute(select(User.id, User.display_name, User.team).order_by(User.display_name)).all()
    teams = sorted({team for _, _, team in users if team})
    return [(uid, name) for uid, name, _ in users], teams


def all_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.role, User.username)).scalars())


def user_by_username(session: Session, username: str) -> User | None:
    """Usernames are stored lower-case and trimmed; so is the name looked up."""
    return session.execute(select(User).where(User.username == username.strip().lower())).scalar_one_or_none()


def active_agents(session: Session) -> list[User]:
    """Desk agents who may sign in, in the order they were added."""
    return list(session.execute(select(User).where(User.role == "agent", User.active).order_by(User.id)).scalars())
