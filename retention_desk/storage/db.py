"""Engines and sessions; SQLite gets WAL and foreign keys, PostgreSQL goes through psycopg 3."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from retention_desk.config import ConfigError

log = logging.getLogger(__name__)

_engines: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and route it through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def get_engine(url: str) -> Engine:
    """One engine per database URL per process (engines hold the connection pool)."""
    url = normalise_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = _build_engine(url)
        _engines[url] = engine
    return engine


def _build_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"RETENTION_DESK_DATABASE_URL is not a database URL: {url!r}.") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"RETENTION_DESK_DATABASE_URL names a {parsed.get_backend_name()} database; retention-desk runs on "
            "SQLite (sqlite:///path) or PostgreSQL (postgresql+psycopg://user:password@host/database)."
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except NoSuchModuleError:
        raise ConfigError(f"The database URL {url!r} names a driver that is not installed.") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def check_database(url: str) -> None:
    """Fail with one sentence if the database cannot be reached."""
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"Cannot reach the database at {safe_url(url)}: {reason}.") from None


def ping(session: Session) -> None:
    """One round trip to the database; raises when it cannot be reached."""
    session.execute(text("SELECT 1"))


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def close_session(session: Session) -> None:
    """Close a session, rolling back what was not committed. A connection the database has ended meanwhile (a
    restart, a failover, ``pg_terminate_backend``) took its transaction with it: there is nothing left to roll back,
    and the pool has already discarded the connection, so the failed ROLLBACK is not an error. Raising it would turn
    a request that has answered, and committed what it stores, into a server error."""
    try:
        session.close()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("The database ended a connection before its session closed; nothing was left to roll back.")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (CLI and jobs)."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
