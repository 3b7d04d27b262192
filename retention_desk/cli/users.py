"""``retention-desk users``: the people who sign in to the desk."""

from __future__ import annotations

import click

from retention_desk.cli.common import checked_settings, migrated_settings


@click.group("users")
def users_group() -> None:
    """Manage desk users."""


@users_group.command("add")
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
    from retention_desk.services.database import session_scope
    from retention_desk.services.staff.users import UserIn, create_user

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


@users_group.command("list")
def users_list() -> None:
    """List users with their role and tier."""
    from retention_desk.services.database import session_scope
    from retention_desk.services.supervision.oversight import list_users

    settings = checked_settings()
    with session_scope(settings.database_url) as session:
        for user in sorted(list_users(session=session), key=lambda u: u.username):
            state = "" if user.active else " (disabled)"
            click.echo(f"{user.username:<20} {user.role:<10} tier {user.authority_tier}{state}")


@users_group.command("password")
@click.argument("username")
@click.password_option(help="Prompted for when not given.")
def users_password(username: str, password: str) -> None:
    """Give a user a new password; their sessions end at once, on every node."""
    from retention_desk.services.database import session_scope
    from retention_desk.services.staff.users import set_password

    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        user = set_password(session=session, username=username, password=password)
        click.echo(f"New password set for {user.username!r}; their sessions have ended.")


@users_group.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Stop a user from signing in; their sessions end at once, on every node."""
    _set_active(username, False)


@users_group.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    from retention_desk.services.database import session_scope
    from retention_desk.services.staff.users import set_active

    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        user = set_active(session=session, username=username, active=active)
        click.echo(f"{user.username!r} is {'enabled' if active else 'disabled'}.")
