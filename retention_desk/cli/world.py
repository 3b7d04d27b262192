"""``retention-desk seed``, ``serve`` and ``demo``: the synthetic world and the app on this machine."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from retention_desk.cli.common import checked_settings, migrated_settings
from retention_desk.cli.progress import BarProgress, progress_shown
from retention_desk.config import ConfigError


@click.command("seed")
@click.option("--accounts", "n_accounts", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--seed", "random_seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The world's 'today' (default: today, UTC). Same seed and date give identical data.",
)
@click.option(
    "--demo-users",
    is_flag=True,
    help="Also create the demo logins with the passwords the README prints (never on a real database).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def seed_command(n_accounts: int, random_seed: int, as_of: Any, demo_users: bool, quiet: bool) -> None:
    """Seed (or re-seed) the synthetic subscriber world and the offer catalog; the demo logins only on request."""
    from retention_desk.services.seeding import seed_demo_world

    settings = migrated_settings()
    summary = seed_demo_world(
        url=settings.database_url,
        accounts=n_accounts,
        seed=random_seed,
        as_of=as_of.date() if as_of else None,
        demo_users=demo_users,
        progress=progress_shown(quiet),
    )
    click.echo(summary.describe())
    if demo_users:
        click.echo(
            "Warning: the demo logins (agent, senior, supervisor, admin) now sign in with the passwords the README "
            "prints; never leave them on a database real people use.",
            err=True,
        )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--debug", is_flag=True)
def serve_command(host: str, port: int, debug: bool) -> None:
    """Run the app on Flask's development server (use gunicorn in production; see the README)."""
    from retention_desk import create_app
    from retention_desk.services.database import schema_is_current

    settings = checked_settings(need_models=True)
    settings.check_secret()
    if not schema_is_current(settings.database_url):
        raise ConfigError("The database schema is not up to date; run: retention-desk db upgrade.")
    create_app(settings).run(host=host, port=port, debug=debug, threaded=True)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--accounts", "n_accounts", type=click.IntRange(min=100), default=20_000, show_default=True)
@click.option("--seed", "random_seed", type=int, default=7, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the demo and exit without serving.")
def demo_command(host: str, port: int, n_accounts: int, random_seed: int, no_serve: bool) -> None:
    """From nothing to a running desk: database, synthetic world, demo users, first model, server."""
    from retention_desk import create_app
    from retention_desk.services.database import display_url
    from retention_desk.services.models.nightly import has_champion, run_nightly
    from retention_desk.services.seeding import demo_logins, ensure_demo_logins, seed_demo_world, world_is_seeded

    settings = migrated_settings(demo=True, need_models=True).with_demo_secret()
    click.echo(f"Database: {display_url(settings.database_url)}")
    if world_is_seeded(url=settings.database_url):
        click.echo("Reusing the existing demo world (run 'retention-desk seed' to start afresh).")
        ensure_demo_logins(url=settings.database_url)
    else:
        summary = seed_demo_world(
            url=settings.database_url,
            accounts=n_accounts,
            seed=random_seed,
            as_of=date.today(),
            demo_users=True,
            progress=BarProgress(),
        )
        click.echo(summary.describe())
    if not has_champion(settings=settings):
        click.echo("Training the first churn and offer-response models (the nightly job's first run) ...")
        churn, offer = run_nightly(settings=settings, progress=BarProgress())
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
