"""Throwaway databases for the benchmarks, made and dropped by the same helper the test suite uses."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import POSTGRES_ENV, temporary_database  # noqa: E402

__all__ = ["POSTGRES_ENV", "postgres_database", "scratch_database", "sqlite_database"]


@contextmanager
def scratch_database(backend: str, admin_url: str | None = None) -> Iterator[str]:
    """A new empty database of this backend (PostgreSQL on ``admin_url``'s server), dropped afterwards."""
    with tempfile.TemporaryDirectory() as folder, temporary_database(backend, Path(folder), admin_url) as url:
        yield url


def sqlite_database() -> Iterator[str]:
    return scratch_database("sqlite")


def postgres_database(admin_url: str) -> Iterator[str]:
    return scratch_database("postgresql", admin_url)
