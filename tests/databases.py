"""Per-run test databases: SQLite always, PostgreSQL when RETENTION_DESK_TEST_POSTGRES_URL is set.

Each run creates its own databases and drops them afterwards; a configured database is never touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from retention_desk.storage.db import dispose_engines, get_engine, normalise_url

POSTGRES_ENV = "RETENTION_DESK_TEST_POSTGRES_URL"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@contextmanager
def temporary_database(backend: str, folder: Path, admin_url: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of this backend; drop it afterwards.

    PostgreSQL databases are made on the server of ``admin_url`` (default: the test server's URL).
    """
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.sqlite3'}"
        dispose_engines()
        return
    admin = make_url(normalise_url(admin_url or os.environ[POSTGRES_ENV]))
    name = f"retention_desk_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wipe(url: str) -> None:
    """Delete every row, children first, keeping the schema (faster than re-migrating per test)."""
    with get_engine(url).begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))
