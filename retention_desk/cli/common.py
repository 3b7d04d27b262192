"""What every command starts with: settings from the environment, a reachable database, an up-to-date schema."""

from __future__ import annotations

from typing import Any

from retention_desk.config import Settings


def checked_settings(*, demo: bool = False, need_models: bool = False) -> Settings:
    """Settings from the environment, with the database checked before any work starts."""
    from retention_desk.services.database import check_reachable

    settings = Settings.from_env(demo=demo)
    if need_models:
        settings.check_model_dir()
    check_reachable(settings.database_url)
    return settings


def migrated_settings(**kwargs: Any) -> Settings:
    """Checked settings with the schema brought up to date: what every command that touches data starts with."""
    from retention_desk.services.database import upgrade_schema

    settings = checked_settings(**kwargs)
    upgrade_schema(settings.database_url)
    return settings
