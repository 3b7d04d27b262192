from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import belongs_to


def test_the_migrated_schema_equals_the_table_definitions(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        options = {"include_object": belongs_to(conn.dialect.name)}  # one index exists per database
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), SQLModel.metadata)
    assert diff == []


def test_the_database_is_at_the_newest_revision(db_url: str) -> None:
    assert migrate.is_up_to_date(db_url)


def test_lookup_indexes_exist_for_accounts_and_calls(db_url: str) -> None:
    inspector = inspect(get_engine(db_url))
    account_indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("accounts")}
    assert {("account_no",), ("phone_normalised",), ("email_normalised",)} <= account_indexed
    call_indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("calls")}
    assert {("started_at",), ("agent_id", "started_at"), ("offer_code",)} <= call_indexed
    offer_indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("call_offers")}
    assert ("offer_code", "presented_at") in offer_indexed


def test_migrations_run_down_and_up_again(backend: str, tmp_path) -> None:
    from tests.databases import temporary_database

    with temporary_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        migrate.downgrade(url, "base")
        assert migrate.current_revision(url) is None
        migrate.upgrade(url)
        assert migrate.is_up_to_date(url)


def test_the_log_sorted_by_risk_walks_an_index_instead_of_sorting(db_url: str) -> None:
    """The usual order of the risk column (highest first, calls without a score last) must match an index on both
    databases, else a million-call log is read and sorted whole for each page (docs/supervisor.md, "Speed")."""
    from retention_desk.storage.call_log import CallQuery, _log_select

    stmt = _log_select(CallQuery(sort="risk", descending=True)).offset(100).limit(51)
    engine = get_engine(db_url)
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # An empty table makes any plan cheap: forbid sorting and scanning to ask whether an index gives the order.
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
        else:
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_calls_risk_score_id" in plan
    assert "Sort Key" not in plan and "TEMP B-TREE" not in plan
