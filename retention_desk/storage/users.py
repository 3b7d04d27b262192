"""Desk users: by name, all of them, the agents and teams a filter lists; their session versions and the sign-in
attempts counted against them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from retention_desk.storage.tables import SignInCounter, User


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


def count_sign_in(session: Session, key: str, *, now: datetime, window: timedelta) -> int:
    """Count one more sign-in attempt for ``key`` in the current window (a window older than ``window`` starts
    again at 1) and return the count: one atomic upsert, so parallel attempts each get their own number."""
    table = SignInCounter.__table__
    stale = table.c.window_start < now - window
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(key=key, window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "attempts": case((stale, 1), else_=table.c.attempts + 1),
                "window_start": case((stale, literal(now, table.c.window_start.type)), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts)
    )
    return int(session.execute(statement).scalar_one())


def uncount_sign_in(session: Session, key: str) -> None:
    """Take back one counted attempt (it succeeded: only failures should use up the allowance)."""
    table = SignInCounter.__table__
    session.execute(update(table).where(table.c.key == key, table.c.attempts > 0).values(attempts=table.c.attempts - 1))


def bump_session_version(session: Session, user_id: int) -> None:
    """End every session signed in as this user, on every node (their cookies carry the old version)."""
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
