"""The database as the command line and the web reach it: a unit of work, the schema's migrations, a check.

Only ``storage/`` knows SQL and engines; the outer layers open their sessions here and hand them to the services.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlmodel import Session

from retention_desk.storage import db, migrate


def open_session(url: str) -> Session:
    """A session for one web request; the caller commits what it wants kept and closes it."""
    return Session(db.get_engine(url), expire_on_commit=False)


def close_session(session: Session) -> None:
    """Close a request's session; a connection the database has ended meanwhile is no error (nothing to undo)."""
    db.close_session(session)


def session_scope(url: str) -> AbstractContextManager[Session]:
    """A session that commits on success and rolls back on error: one command's or one job's unit of work."""
    return db.session_scope(url)


def check_reachable(url: str) -> None:
    """Raise ``ConfigError`` with one sentence when the database cannot be reached."""
    db.check_database(url)


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return db.safe_url(url)


def upgrade_schema(url: str, revision: str = "head") -> str | None:
    """Apply the migrations up to ``revision``; returns the revision the database is at afterwards."""
    migrate.upgrade(url, revision)
    return migrate.current_revision(url)


def schema_revisions(url: str) -> tuple[str | None, str | None]:
    """(the database's revision, the newest this code knows)."""
    return migrate.current_revision(url), migrate.head_revision()


def schema_is_current(url: str) -> bool:
    return migrate.is_up_to_date(url)
