from pathlib import Path

import pytest

from retention_desk import create_app
from retention_desk.config import ConfigError, OfferPolicy, Settings, is_placeholder_secret, test_settings


def production_settings(tmp_path: Path, secret: str | None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        model_dir=tmp_path / "models",
        instance_path=tmp_path / "instance",
        secret_key=secret,
    )


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret", "short"])
def test_production_refuses_a_missing_or_placeholder_secret(tmp_path: Path, secret: str | None) -> None:
    with pytest.raises(ConfigError, match="RETENTION_DESK_SECRET_KEY"):
        create_app(production_settings(tmp_path, secret))


def test_a_long_random_secret_is_accepted(tmp_path: Path) -> None:
    app = create_app(production_settings(tmp_path, "9f2c4e1d7a8b6c5d4e3f2a1b0c9d8e7f"))
    assert app.config["SECRET_KEY"].startswith("9f2c")


def test_the_demo_makes_and_keeps_its_own_secret(tmp_path: Path) -> None:
    demo = Settings(
        database_url="sqlite://", model_dir=tmp_path, instance_path=tmp_path / "instance", secret_key=None, demo=True
    )
    first = demo.with_demo_secret()
    again = demo.with_demo_secret()
    assert first.secret_key == again.secret_key
    assert not is_placeholder_secret(first.secret_key or "")


def test_an_unwritable_model_folder_is_reported_in_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Settings(database_url="sqlite://", model_dir=blocker / "models", instance_path=tmp_path, secret_key=None)
    with pytest.raises(ConfigError, match="not writable"):
        settings.check_model_dir()


def test_environment_settings_default_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETENTION_DESK_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'retention_desk.sqlite3'}"
    assert settings.model_dir == tmp_path / "models"


def test_test_settings_never_point_at_a_configured_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RETENTION_DESK_DATABASE_URL", "postgresql://prod/db")
    assert test_settings("sqlite://", tmp_path).database_url == "sqlite://"


def test_the_app_factory_builds_nothing_at_import_time() -> None:
    import retention_desk

    assert not hasattr(retention_desk, "app")


@pytest.mark.parametrize(("raw", "expected"), [("0", False), ("off", False), ("1", True), ("yes", True), ("", True)])
def test_the_exploration_rule_reads_a_switch(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("RETENTION_DESK_EXPLORE_BY_RANK", raw)
    assert OfferPolicy.from_env().explore_by_rank is expected


def test_a_switch_that_is_neither_on_nor_off_is_refused_in_one_sentence(monkeypatch) -> None:
    monkeypatch.setenv("RETENTION_DESK_EXPLORE_BY_RANK", "sometimes")
    with pytest.raises(ConfigError, match="RETENTION_DESK_EXPLORE_BY_RANK must be true or false"):
        OfferPolicy.from_env()
