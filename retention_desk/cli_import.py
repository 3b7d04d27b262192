"""``retention-desk import``: load accounts from the billing system."""

from __future__ import annotations

import click


@click.group("import")
def import_group() -> None:
    """Import data from the billing system."""
