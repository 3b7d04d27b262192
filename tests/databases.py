"""Per-run test databases: SQLite always, PostgreSQL when RETENTION_DESK_TEST_POSTGRES_URL is set.

Each run creates its own databases and drops them afterwards; a configured database is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import SQLModel

from retention_desk.storage.db import get_engine
from retention_desk.storage.scratch import empty_database

POSTGRES_ENV = "RETENTION_DESK_TEST_POSTGRES_URL"


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@contextmanager
def temporary_database(backend: str, folder: Path, admin_url: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of this backend; drop it afterwards.

    PostgreSQL databases are made on the server of ``admin_url`` (default: the test server's URL).
    """
    server = admin_url or os.environ.get(POSTGRES_ENV)
    with empty_database(backend, folder, server, prefix="retention_desk_test") as url:
        yield url


def wipe(url: str) -> None:
    """Delete every row, children first, keeping the schema (faster than re-migrating per test)."""
    with get_engine(url).begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))
