"""``retention-desk import``: load accounts from the billing system."""

from __future__ import annotations

import json
from pathlib import Path

import click

from retention_desk.cli.common import migrated_settings
from retention_desk.cli.progress import progress_shown

SHOWN_BAD_ROWS = 20
EXIT_BAD_ROWS = 1
EXIT_CANNOT_IMPORT = 2


@click.group("import")
def import_group() -> None:
    """Import data from the billing system."""


@import_group.command("accounts")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    help="TOML file mapping CSV columns to account fields, or the name of a shipped one (e.g. ibm-telco-churn).",
)
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even when some rows are bad.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_accounts_command(
    file: Path, mapping_path: str, skip_bad_rows: bool, dry_run: bool, as_json: bool, quiet: bool
) -> None:
    """Import or update accounts from a CSV file, matched by account number.

    Any bad row stops the whole import (nothing is stored) unless --skip-bad-rows is given; the bad rows are
    listed by line number. Exit status: 0 imported, 1 bad rows, 2 the file or mapping cannot be used.
    """
    from retention_desk.services.importing.accounts import ImportFailed, import_accounts, load_mapping

    ctx = click.get_current_context()
    try:
        mapping = load_mapping(mapping_path)
        settings = migrated_settings()
        report = import_accounts(
            url=settings.database_url,
            path=file,
            mapping=mapping,
            skip_bad_rows=skip_bad_rows,
            dry_run=dry_run,
            progress=progress_shown(quiet or as_json),
        )
    except ImportFailed as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(EXIT_CANNOT_IMPORT)
    for bad in report.bad_rows[:SHOWN_BAD_ROWS]:
        click.echo(bad.describe(), err=True)
    if report.bad_row_count > SHOWN_BAD_ROWS:
        click.echo(f"... and {report.bad_row_count - SHOWN_BAD_ROWS} more bad rows.", err=True)
    if as_json:
        click.echo(json.dumps(report.summary(), indent=2))
    else:
        click.echo(report.describe())
    if report.stopped:
        ctx.exit(EXIT_BAD_ROWS)
