"""Throwaway databases for the benchmarks: a new SQLite file, or a new database on a PostgreSQL server, dropped
afterwards. A configured database is never touched."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retention_desk.storage.scratch import empty_database  # noqa: E402

__all__ = ["POSTGRES_ENV", "postgres_database", "scratch_database", "sqlite_database"]

# The PostgreSQL server the test suite uses; the benchmarks default to it too.
POSTGRES_ENV = "RETENTION_DESK_TEST_POSTGRES_URL"


@contextmanager
def scratch_database(backend: str, admin_url: str | None = None) -> Iterator[str]:
    """A new empty database of this backend (PostgreSQL on ``admin_url``'s server), dropped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        server = admin_url or os.environ.get(POSTGRES_ENV)
        with empty_database(backend, Path(folder), server, prefix="retention_desk_bench") as url:
            yield url


def sqlite_database() -> Iterator[str]:
    return scratch_database("sqlite")


def postgres_database(admin_url: str) -> Iterator[str]:
    return scratch_database("postgresql", admin_url)
