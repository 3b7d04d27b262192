"""Imported accounts, upserted by account number in chunks inside one transaction the importer commits or drops.

Every row this import writes carries the same ``updated_at`` (the import's start), which is how a later chunk
tells "this number was already in the database" from "this number came earlier in the same file" without the
importer remembering every number it has seen. An account whose personal data was erased keeps it erased: the
billing system's next file updates its plan, charges and status, never its name, contact details or extras.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, case, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from retention_desk.storage import tables as _tables  # noqa: F401  (registers the tables on the metadata)
from retention_desk.storage.db import get_engine
from retention_desk.storage.subjects import PERSONAL_ACCOUNT_COLUMNS

# What a new account gets for the columns an import does not set (the table's own defaults).
NEW_ACCOUNT_DEFAULTS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "name_search": "",
    "surname_search": "",
    "contract_type": "month_to_month",
    "monthly_charge": Decimal("0"),
    "currency": "NOK",
    "status": "active",
    "churn_label": None,
    "extra": {},
}


def _accounts() -> Table:
    return SQLModel.metadata.tables["accounts"]


class AccountImportWriter:
    """One import's transaction: look up numbers, upsert chunks, then commit or roll back everything."""

    def __init__(self, url: str, *, update_columns: Sequence[str], marker: datetime) -> None:
        self.url = url
        self.marker = marker
        self.update_columns = tuple(update_columns)
        self._conn: Connection | None = None

    def __enter__(self) -> AccountImportWriter:
        self._conn = get_engine(self.url).connect()
        self._conn.begin()
        table = _accounts()
        insert = postgresql_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(table)
        self._upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.account_no],
            set_={name: self._update_value(table, stmt.excluded, name) for name in self.update_columns},
        )
        return self

    @staticmethod
    def _update_value(table: Table, excluded: Any, name: str) -> Any:
        """The imported value, except in a personal column of an erased account, which keeps what it holds."""
        if name not in PERSONAL_ACCOUNT_COLUMNS:
            return excluded[name]
        return case((table.c.erased_at.is_(None), excluded[name]), else_=table.c[name])

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            if self._conn.in_transaction():
                self._conn.rollback()
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("use AccountImportWriter as a context manager")
        return self._conn

    def known(self, account_nos: Iterable[str]) -> dict[str, bool]:
        """Numbers already stored -> True when this same import wrote them (a repeat inside the file)."""
        table = _accounts()
        stmt = select(table.c.account_no, table.c.updated_at).where(table.c.account_no.in_(sorted(set(account_nos))))
        return {number: updated_at == self.marker for number, updated_at in self.conn.execute(stmt)}

    def upsert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new accounts and update existing ones (only the columns the import sets)."""
        if not rows:
            return
        columns = list(dict.fromkeys([*NEW_ACCOUNT_DEFAULTS, *rows[0], "created_at", "updated_at"]))
        stamped = {"created_at": self.marker, "updated_at": self.marker}
        values = [
            {name: row.get(name, stamped.get(name, NEW_ACCOUNT_DEFAULTS.get(name))) for name in columns} for row in rows
        ]
        self.conn.execute(self._upsert, values)

    def commit(self) -> None:
        self.conn.commit()


def refresh_account_statistics(url: str) -> None:
    """Fresh planner statistics after a large import, so the desk's lookups keep using their indexes."""
    with get_engine(url).connect() as conn:
        conn.execute(text("ANALYZE accounts" if conn.dialect.name == "postgresql" else "PRAGMA optimize"))
        conn.commit()
