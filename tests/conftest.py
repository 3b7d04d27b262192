"""Fixtures: every test run gets its own databases (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from retention_desk import create_app
from retention_desk.config import Settings, test_settings
from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
from tests.databases import POSTGRES_ENV, backends, temporary_database, wipe

# Tests never read the developer's configuration.
for _name in ("RETENTION_DESK_DATABASE_URL", "RETENTION_DESK_MODEL_DIR", "RETENTION_DESK_SECRET_KEY"):
    os.environ.pop(_name, None)

WORLD_ACCOUNTS = 3000
WORLD_SEED = 11


def pytest_report_header(config: pytest.Config) -> str:
    ran = backends()
    note = "" if POSTGRES_ENV in os.environ else f" (set {POSTGRES_ENV} to add postgresql)"
    return f"retention-desk test databases: {', '.join(ran)}{note}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    terminalreporter.write_line(f"databases exercised: {', '.join(backends())}")


@pytest.fixture(scope="session", params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def empty_db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this run; tests that write use ``db_url``, which wipes it after them."""
    with temporary_database(backend, tmp_path_factory.mktemp(backend)) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture()
def db_url(empty_db_url: str) -> Iterator[str]:
    yield empty_db_url
    wipe(empty_db_url)


@pytest.fixture()
def session(db_url: str) -> Iterator[Session]:
    with Session(get_engine(db_url), expire_on_commit=False) as s:
        yield s


@pytest.fixture()
def settings(db_url: str, tmp_path: Path) -> Settings:
    return test_settings(db_url, tmp_path)


@pytest.fixture()
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def world_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small seeded synthetic world with a trained champion, shared read-only by the tests that need one."""
    from retention_desk.services.seeding import seed_demo_world

    with temporary_database(backend, tmp_path_factory.mktemp(f"world-{backend}")) as url:
        migrate.upgrade(url)
        seed_demo_world(url=url, accounts=WORLD_ACCOUNTS, seed=WORLD_SEED, as_of=None, demo_users=True)
        yield url


@pytest.fixture(scope="session")
def world_settings(world_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from retention_desk.services.models.nightly import retrain_churn_model

    settings = test_settings(world_url, tmp_path_factory.mktemp("world-files"))
    retrain_churn_model(settings=settings)
    return settings


@pytest.fixture()
def world_app(world_settings: Settings) -> Flask:
    return create_app(world_settings)


@pytest.fixture()
def world_client(world_app: Flask) -> FlaskClient:
    return world_app.test_client()
