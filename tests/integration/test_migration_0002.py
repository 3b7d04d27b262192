"""Migration 0002 (offer budgets, approval requests) goes down to 0001 and up again without touching other data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
from tests.databases import temporary_database

NEW_TABLES = {"offer_budget_months", "approval_requests"}


def test_0002_goes_down_and_up_keeping_the_rest(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path) as url:
        migrate.upgrade(url, "0002")
        engine = get_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO cancel_reasons (code, label, description, sort_order, active) "
                    "VALUES ('price', 'Price', '', 1, true)"
                )
            )
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES

        migrate.downgrade(url, "0001")
        engine.dispose()
        assert migrate.current_revision(url) == "0001"
        assert not NEW_TABLES & set(inspect(engine).get_table_names())

        migrate.upgrade(url, "0002")
        engine.dispose()
        indexes = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("approval_requests")}
        assert ("status", "requested_at") in indexes
        with engine.connect() as conn:
            assert conn.execute(text("SELECT label FROM cancel_reasons WHERE code = 'price'")).scalar_one() == "Price"
