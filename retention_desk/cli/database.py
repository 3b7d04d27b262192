"""``retention-desk db``: the schema's migrations."""

from __future__ import annotations

import sys

import click

from retention_desk.cli.common import checked_settings


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply schema migrations."""
    from retention_desk.services.database import display_url, upgrade_schema

    settings = checked_settings()
    reached = upgrade_schema(settings.database_url, revision)
    click.echo(f"Database {display_url(settings.database_url)} is at revision {reached}.")


@db_group.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    from retention_desk.services.database import schema_revisions

    current, head = schema_revisions(checked_settings().database_url)
    click.echo(f"current: {current or 'none'}; newest: {head}")
    if current != head:
        sys.exit(1)
