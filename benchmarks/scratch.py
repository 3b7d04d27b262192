"""Throwaway databases for the benchmarks: a new SQLite file, or a new database on a PostgreSQL server, dropped
afterwards. A configured database is never touched."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retention_desk.storage.db import dispose_engines, normalise_url  # noqa: E402

__all__ = ["POSTGRES_ENV", "postgres_database", "scratch_database", "sqlite_database"]

# The PostgreSQL server the test suite uses; the benchmarks default to it too.
POSTGRES_ENV = "RETENTION_DESK_TEST_POSTGRES_URL"


@contextmanager
def scratch_database(backend: str, admin_url: str | None = None) -> Iterator[str]:
    """A new empty database of this backend (PostgreSQL on ``admin_url``'s server), dropped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        if backend == "sqlite":
            yield f"sqlite:///{Path(folder) / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
            dispose_engines()
            return
        admin = make_url(normalise_url(admin_url or os.environ[POSTGRES_ENV]))
        name = f"retention_desk_bench_{uuid.uuid4().hex[:12]}"
        admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        finally:
            dispose_engines()
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_database() -> Iterator[str]:
    return scratch_database("sqlite")


def postgres_database(admin_url: str) -> Iterator[str]:
    return scratch_database("postgresql", admin_url)
