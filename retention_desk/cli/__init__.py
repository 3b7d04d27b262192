"""The ``retention-desk`` command: parse arguments, call services, show progress, exit with a clear sentence.

Each command group lives in its own module and only calls services; this module gathers them under one group
that turns expected failures into one sentence on stderr. Commands import their services when they run, so
``--help`` and argument errors answer at once instead of after loading scikit-learn.
"""

from __future__ import annotations

from typing import Any

import click

from retention_desk.cli.catalog import catalog_group
from retention_desk.cli.database import db_group
from retention_desk.cli.imports import import_group
from retention_desk.cli.models import models_group, retrain_command
from retention_desk.cli.simulate import simulate_command
from retention_desk.cli.subjects import subject_group
from retention_desk.cli.users import users_group
from retention_desk.cli.world import demo_command, seed_command, serve_command
from retention_desk.config import ConfigError


class DeskGroup(click.Group):
    """Turns expected failures into one sentence on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from retention_desk.services.catalog.files import CatalogError
        from retention_desk.services.models.nightly import TrainingError
        from retention_desk.services.staff.users import UserError
        from retention_desk.services.subjects import SubjectError

        try:
            return super().invoke(ctx)
        except (ConfigError, UserError, TrainingError, CatalogError, SubjectError) as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
        except OperationalError as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            click.echo(f"Error: the database refused the operation: {first}.", err=True)
            ctx.exit(2)


@click.group(cls=DeskGroup)
@click.version_option(package_name="retention-desk")
def main() -> None:
    """Cancellation-desk retention assistant."""


for command in (
    db_group,
    seed_command,
    users_group,
    retrain_command,
    serve_command,
    demo_command,
    simulate_command,
    catalog_group,
    import_group,
    models_group,
    subject_group,
):
    main.add_command(command)
