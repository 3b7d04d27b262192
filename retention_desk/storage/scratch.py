"""Scratch databases: a copy of a database and its model folder, for runs that must leave the real one as it was
(the simulator), and a new empty database, for test runs and benchmarks that must never touch a configured one.

SQLite: an online backup into (or a new file in) a temporary folder. PostgreSQL: a new database on the same server,
made from the source as a template for a copy (which PostgreSQL allows only while nobody else is connected to the
source); either is dropped afterwards.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from retention_desk.config import Settings
from retention_desk.storage.db import dispose_engines, normalise_url


class ScratchCopyError(ValueError):
    """The database cannot be copied; one sentence for the operator."""


@contextmanager
def scratch_copy(settings: Settings) -> Iterator[Settings]:
    """Settings for a copy of the database and of its model folder, both removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="retention-desk-sim-"))
    pg_name: str | None = None
    try:
        if settings.is_sqlite:
            source = make_url(settings.database_url).database
            if not source or source == ":memory:":
                raise ScratchCopyError("The simulator needs a database file, not an in-memory database.")
            target = folder / "simulation.sqlite3"
            with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            copy_url = f"sqlite:///{target}"
        else:
            parsed = make_url(settings.database_url)
            name = f"{parsed.database}_sim_{random.getrandbits(32):08x}"
            dispose_engines()  # our own idle connections to the source would block the copy
            try:
                _admin(settings.database_url, f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')
            except Exception as exc:  # noqa: BLE001  (the server's reason goes to the operator)
                first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                raise ScratchCopyError(
                    "Could not copy the database for the simulation (PostgreSQL copies only a database nobody "
                    f"else is connected to; stop the app or use --in-place on a scratch database): {first}"
                ) from None
            pg_name = name
            copy_url = parsed.set(database=name).render_as_string(hide_password=False)
        models = folder / "models"
        if Path(settings.model_dir).is_dir():  # else the registry restores each from the database copy, noisily
            shutil.copytree(
                settings.model_dir, models, ignore=shutil.ignore_patterns("*.tmp", ".*"), copy_function=_link_or_copy
            )
        yield replace(settings, database_url=copy_url, model_dir=models)
    finally:
        dispose_engines()
        if pg_name:
            _admin(settings.database_url, f'DROP DATABASE IF EXISTS "{pg_name}"')
        shutil.rmtree(folder, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """Artifacts are written once and replaced by renaming, never changed in place, so a hard link is a safe copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@contextmanager
def empty_database(backend: str, folder: Path, server_url: str | None = None, *, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards: an SQLite file in ``folder``, or a database on the
    PostgreSQL server of ``server_url`` (any database URL on that server)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        dispose_engines()
        return
    if not server_url:
        raise ScratchCopyError("A PostgreSQL scratch database needs the URL of a server to make it on.")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    """Run a database-level statement from the server's maintenance database (not the one being copied)."""
    maintenance = make_url(normalise_url(url)).set(database="postgres")
    engine = create_engine(maintenance, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
