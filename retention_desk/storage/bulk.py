"""Fast bulk writes and deletes for the subscriber world: executemany in chunks on SQLite, COPY on PostgreSQL.

The generator hands over column arrays (numpy or lists); this module turns each column into the values the
driver stores for its column type (the same text SQLAlchemy itself writes on SQLite), so rows written here
read back through the ORM exactly like rows written one by one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import JSON, Boolean, Date, Float, Numeric, Table, func, select, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from retention_desk.storage import tables as _tables  # noqa: F401  (registers the tables on the metadata)
from retention_desk.storage.db import get_engine
from retention_desk.storage.types import UTCDateTime

# Parents first; deletes go in the reverse order. A new world also starts with no approval requests and fresh
# monthly budget counters, since the acceptances they counted are gone.
WORLD_TABLES = (
    "accounts",
    "account_services",
    "bills",
    "tickets",
    "calls",
    "call_offers",
    "offer_history",
    "approval_requests",
    "offer_budget_months",
)
CHUNK_ROWS = 20_000
RowsWritten = Callable[[str, int], None]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def wipe_world(url: str) -> None:
    """Delete every account and everything hanging off it (services, bills, tickets, offers, calls)."""
    with get_engine(url).begin() as conn:
        _wipe(conn)


def _wipe(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("TRUNCATE TABLE " + ", ".join(reversed(WORLD_TABLES))))
        return
    for name in reversed(WORLD_TABLES):
        conn.execute(_table(name).delete())


def count_accounts_not_from(url: str, source: str) -> int:
    """How many accounts came from elsewhere than ``source`` (e.g. imported from billing)."""
    accounts = _table("accounts")
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).where(accounts.c.source != source)).scalar_one()


def any_account_from(url: str, source: str) -> bool:
    accounts = _table("accounts")
    with get_engine(url).connect() as conn:
        return conn.execute(select(accounts.c.id).where(accounts.c.source == source).limit(1)).first() is not None


def replace_world(url: str, world: Mapping[str, Mapping[str, Any]], on_rows: RowsWritten | None = None) -> None:
    """Wipe the world tables and write ``world`` (table → column → values) in one transaction."""
    engine = get_engine(url)
    with engine.begin() as conn:
        _wipe(conn)
        for name in WORLD_TABLES:
            if name in world:
                insert_columns(conn, name, world[name], on_rows)
        if conn.dialect.name == "postgresql":
            for name in WORLD_TABLES:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                    )
                )
    with engine.connect() as conn:
        # Fresh statistics so the desk's queries pick their indexes on the new data.
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE " + ", ".join(WORLD_TABLES)))
        else:
            conn.execute(text("PRAGMA optimize"))
        conn.commit()


def insert_columns(conn: Connection, name: str, columns: Mapping[str, Any], on_rows: RowsWritten | None = None) -> int:
    """Insert column arrays into table ``name`` inside the caller's transaction; returns the row count."""
    table = _table(name)
    dialect = conn.dialect.name
    names = list(columns)
    values = [_driver_values(table.c[col].type, columns[col], dialect) for col in names]
    rows = list(zip(*values, strict=True))
    quoted = ", ".join(f'"{col}"' for col in names)
    if dialect == "postgresql":
        _copy(conn, name, quoted, rows, on_rows)
    else:
        sql = f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" for _ in names)})'
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            conn.exec_driver_sql(sql, chunk)
            if on_rows:
                on_rows(name, len(chunk))
    return len(rows)


def _copy(conn: Connection, name: str, quoted: str, rows: Sequence[tuple], on_rows: RowsWritten | None) -> None:
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            for row in chunk:
                copy.write_row(row)
            if on_rows:
                on_rows(name, len(chunk))


def _driver_values(sa_type: Any, values: Any, dialect: str) -> list[Any]:
    """One column as the driver's values: text for dates and times, floats for money, JSON text."""
    if isinstance(sa_type, UTCDateTime):
        return _datetimes(np.asarray(values, dtype="datetime64[us]"), dialect)
    if isinstance(sa_type, Date):
        text_values = np.datetime_as_string(np.asarray(values, dtype="datetime64[D]"), unit="D").tolist()
        return [None if v == "NaT" else v for v in text_values]
    if isinstance(sa_type, Numeric | Float) and not _is_object(values):
        array = np.asarray(values, dtype=float)
        out = (
            np.round(array, 2) if isinstance(sa_type, Numeric) and not isinstance(sa_type, Float) else array
        ).tolist()
        return [None if v != v else v for v in out] if np.isnan(array).any() else out
    if isinstance(sa_type, JSON) or isinstance(getattr(sa_type, "impl", None), JSON):
        return [json.dumps(v, separators=(",", ":"), ensure_ascii=False) for v in values]
    if isinstance(sa_type, Boolean):
        return [None if v is None else (bool(v) if dialect == "postgresql" else int(bool(v))) for v in values]
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


def _is_object(values: Any) -> bool:
    return isinstance(values, np.ndarray) and values.dtype == object or isinstance(values, list)


def _datetimes(array: np.ndarray, dialect: str) -> list[str | None]:
    text_values = np.datetime_as_string(array, unit="us").tolist()
    if dialect == "postgresql":
        return [None if v == "NaT" else v + "+00" for v in text_values]
    return [None if v == "NaT" else v.replace("T", " ") for v in text_values]


def world_digest(url: str) -> str:
    """sha256 over every row of the world tables in id order: equal digests mean an identical world."""
    digest = hashlib.sha256()
    with get_engine(url).connect() as conn:
        for name in WORLD_TABLES:
            table = _table(name)
            digest.update(f"\x1d{name}".encode())
            result = conn.execution_options(yield_per=10_000).execute(select(table).order_by(table.c.id))
            for row in result:
                digest.update(_row_text(row).encode())
    return digest.hexdigest()


def _row_text(row: Iterable[Any]) -> str:
    return "\x1f".join(_value_text(v) for v in row) + "\x1e"


def _value_text(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return repr(round(value, 9))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)
