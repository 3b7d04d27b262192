"""A lock that keeps two nightly retrains from overlapping, and that a killed process cannot leave behind.

PostgreSQL: ``pg_try_advisory_lock`` on a dedicated connection held for the whole run; the server frees it
when that connection ends, also when the process is killed. SQLite: ``fcntl.flock`` on a file next to the
database; the operating system frees it when the process exits, however it exits.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from retention_desk.storage.db import get_engine, normalise_url


class LockBusy(Exception):
    """Another process holds the lock; the message is one sentence for the operator."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, derived from the lock's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def sqlite_lock_path(url: str, name: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        return Path(os.environ.get("TMPDIR", "/tmp")) / f"retention-desk-{name}.lock"
    return Path(database).with_name(f"{Path(database).name}.{name}.lock")


@contextmanager
def exclusive_lock(url: str, name: str) -> Iterator[None]:
    """Hold the named lock for the ``with`` block, or raise ``LockBusy`` at once if someone else holds it."""
    if make_url(normalise_url(url)).get_backend_name() == "sqlite":
        with _file_lock(sqlite_lock_path(url, name), name):
            yield
    else:
        with _advisory_lock(url, name):
            yield


@contextmanager
def _file_lock(path: Path, name: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(
                f"Another {name} is running (lock file {path} is held); try again when it has finished."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def _advisory_lock(url: str, name: str) -> Iterator[None]:
    key = lock_key(f"retention-desk:{name}")
    conn = get_engine(url).connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one()
        conn.commit()
        if not got:
            raise LockBusy(f"Another {name} is running (PostgreSQL advisory lock {key} is held); try again later.")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
    finally:
        conn.close()
