"""``retention-desk catalog``: the offer catalog between the database and a TOML file under version control."""

from __future__ import annotations

from pathlib import Path

import click

from retention_desk.cli.common import migrated_settings


@click.group("catalog")
def catalog_group() -> None:
    """Export the offer catalog to a file, or load a file into the database."""


@catalog_group.command("export")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, writable=True))
def catalog_export(file: Path) -> None:
    """Write the database's offer catalog to FILE in the catalog format (seed/README.md)."""
    from retention_desk.services.catalog.files import CatalogError
    from retention_desk.services.catalog.store import export_offers
    from retention_desk.services.database import session_scope

    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        try:
            count = export_offers(session=session, path=file)
        except OSError as exc:
            raise CatalogError(f"{file}: cannot write the file ({exc.strerror or exc}).") from None
    click.echo(f"Exported {count} offers to {file}.")


@catalog_group.command("load")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--actor", default="cli", show_default=True, help="Name recorded in the audit log for the changes.")
def catalog_load(file: Path, actor: str) -> None:
    """Validate FILE and upsert its offers by code, each change audited; offers not in FILE are left as they are.

    A bad file changes nothing: the error names the offer and the field, and the exit status is 2.
    """
    from retention_desk.services.catalog.files import load_offers
    from retention_desk.services.catalog.store import load_catalog_file
    from retention_desk.services.database import session_scope

    load_offers(file)  # a bad file fails here, before the database is even opened
    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        result = load_catalog_file(session=session, path=file, actor_name=actor)
    click.echo(result.describe())
