"""The ``retention-desk`` command: parse arguments, call services, show progress, exit with a clear sentence."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click

from retention_desk.config import ConfigError, Settings


class DeskGroup(click.Group):
    """Turns expected failures into one sentence on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import OperationalError

        from retention_desk.services.catalog import CatalogError
        from retention_desk.services.training import TrainingError
        from retention_desk.services.users import UserError

        try:
            return super().invoke(ctx)
        except (ConfigError, UserError, TrainingError, CatalogError) as exc:
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


def _settings(*, demo: bool = False, need_models: bool = False) -> Settings:
    """Settings from the environment, with the database checked before any work starts."""
    from retention_desk.storage.db import check_database

    settings = Settings.from_env(demo=demo)
    if need_models:
        settings.check_model_dir()
    check_database(settings.database_url)
    return settings


def migrated_settings(**kwargs: Any) -> Settings:
    """Checked settings with the schema brought up to date: what every command that touches data starts with."""
    from retention_desk.storage import migrate

    settings = _settings(**kwargs)
    migrate.upgrade(settings.database_url)
    return settings


# --- database ---------------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply schema migrations."""
    from retention_desk.storage import migrate
    from retention_desk.storage.db import safe_url

    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    click.echo(
        f"Database {safe_url(settings.database_url)} is at revision {migrate.current_revision(settings.database_url)}."
    )


@db.command("current")
def db_current() -> None:
    """Show the schema revision and whether it is the newest."""
    from retention_desk.storage import migrate

    settings = _settings()
    current = migrate.current_revision(settings.database_url)
    head = migrate.head_revision()
    click.echo(f"current: {current or 'none'}; newest: {head}")
    if current != head:
        sys.exit(1)


# --- the synthetic world ------------------------------------------------------------------------------------


@main.command()
@click.option("--accounts", "n_accounts", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--seed", "random_seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The world's 'today' (default: today, UTC). Same seed and date give identical data.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def seed(n_accounts: int, random_seed: int, as_of: Any, quiet: bool) -> None:
    """Seed (or re-seed) the synthetic subscriber world, the offer catalog and the demo users."""
    from retention_desk.services.seeding import seed_demo_world

    settings = migrated_settings()
    summary = seed_demo_world(
        url=settings.database_url,
        accounts=n_accounts,
        seed=random_seed,
        as_of=as_of.date() if as_of else None,
        progress=not quiet,
    )
    click.echo(summary.describe())


# --- users ----------------------------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Manage desk users."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), default="agent", show_default=True)
@click.option("--tier", "authority_tier", type=click.IntRange(1, 3), default=1, show_default=True)
@click.option("--name", "display_name", default="", help="Name shown on screens.")
@click.option("--team", default=None)
@click.option("--locale", type=click.Choice(["en", "nb", "sv", "fi"]), default="en", show_default=True)
@click.password_option(help="Prompted for when not given.")
def users_add(
    username: str, role: str, authority_tier: int, display_name: str, team: str | None, locale: str, password: str
) -> None:
    """Add a user who can sign in to the desk."""
    from retention_desk.services.users import UserIn, create_user
    from retention_desk.storage.db import session_scope

    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        user = create_user(
            session=session,
            user_in=UserIn(
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                authority_tier=authority_tier,
                team=team,
                locale=locale,
            ),
        )
        click.echo(f"Added {user.role} {user.username!r} (authority tier {user.authority_tier}).")


@users.command("list")
def users_list() -> None:
    """List users with their role and tier."""
    from sqlalchemy import select

    from retention_desk.storage.db import session_scope
    from retention_desk.storage.tables import User

    settings = _settings()
    with session_scope(settings.database_url) as session:
        for user in session.execute(select(User).order_by(User.username)).scalars():
            state = "" if user.active else " (disabled)"
            click.echo(f"{user.username:<20} {user.role:<10} tier {user.authority_tier}{state}")


# --- models ---------------------------------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@click.option("--force", is_flag=True, help="Promote the new model even if it is worse than the champion.")
@click.option("--dry-run", is_flag=True, help="Train, evaluate and report, but write nothing (no file, no row).")
@click.option(
    "--horizon-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Label horizon: a call is a save only if the account is active and paying this many days later "
    "(default: RETENTION_DESK_LABEL_HORIZON_DAYS, else 90).",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.005,
    show_default=True,
    help="Promote unless the new model's hold-out log loss is worse than the champion's by more than this.",
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def retrain(as_json: bool, force: bool, dry_run: bool, horizon_days: int | None, tolerance: float, quiet: bool) -> None:
    """The nightly job: train on logged outcomes, compare with the champion, promote or keep; says which and why.

    Exit codes: 0 finished (promoted or kept), 2 failed (e.g. too little data), 3 another retrain is running.
    """
    from retention_desk.services.training import LockBusy, run_nightly

    settings = migrated_settings(need_models=True)
    try:
        result, offer = run_nightly(
            settings=settings,
            progress=not quiet,
            horizon_days=horizon_days,
            tolerance=tolerance,
            force=force,
            dry_run=dry_run,
        )
    except LockBusy as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(3)
    if as_json:
        click.echo(json.dumps({**result.summary(), "offer_model": offer.summary()}, indent=2, default=str))
    else:
        click.echo(result.describe())
        click.echo(offer.describe())


# --- serving --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--debug", is_flag=True)
def serve(host: str, port: int, debug: bool) -> None:
    """Run the app on Flask's development server (use gunicorn in production; see the README)."""
    from retention_desk import create_app
    from retention_desk.storage import migrate

    settings = _settings(need_models=True)
    settings.check_secret()
    if not migrate.is_up_to_date(settings.database_url):
        raise ConfigError("The database schema is not up to date; run: retention-desk db upgrade.")
    create_app(settings).run(host=host, port=port, debug=debug, threaded=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--accounts", "n_accounts", type=click.IntRange(min=100), default=20_000, show_default=True)
@click.option("--seed", "random_seed", type=int, default=7, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the demo and exit without serving.")
def demo(host: str, port: int, n_accounts: int, random_seed: int, no_serve: bool) -> None:
    """From nothing to a running desk: database, synthetic world, demo users, first model, server."""
    from retention_desk import create_app
    from retention_desk.services.seeding import demo_logins, seed_demo_world, world_is_seeded
    from retention_desk.services.training import has_champion, run_nightly
    from retention_desk.storage.db import safe_url

    settings = migrated_settings(demo=True, need_models=True).with_demo_secret()
    click.echo(f"Database: {safe_url(settings.database_url)}")
    if world_is_seeded(url=settings.database_url):
        click.echo("Reusing the existing demo world (run 'retention-desk seed' to start afresh).")
    else:
        summary = seed_demo_world(
            url=settings.database_url, accounts=n_accounts, seed=random_seed, as_of=date.today(), progress=True
        )
        click.echo(summary.describe())
    if not has_champion(settings=settings):
        click.echo("Training the first churn and offer-response models (the nightly job's first run) ...")
        churn, offer = run_nightly(settings=settings, progress=True)
        click.echo(churn.describe())
        click.echo(offer.describe())

    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"retention-desk is {'ready to serve' if no_serve else 'running'} at {url}")
    click.echo("Demo logins (username / password):")
    for login in demo_logins():
        click.echo(f"  {login.role:<11} tier {login.authority_tier}  {login.username} / {login.password}")
    if not no_serve:
        click.echo("Press Ctrl+C to stop.")
        create_app(settings).run(host=host, port=port, threaded=True)


def _register_command_groups() -> None:
    from retention_desk.cli_catalog import catalog_group
    from retention_desk.cli_import import import_group
    from retention_desk.cli_models import models_group
    from retention_desk.cli_simulate import simulate_command

    main.add_command(simulate_command)
    main.add_command(catalog_group)
    main.add_command(import_group)
    main.add_command(models_group)


_register_command_groups()
