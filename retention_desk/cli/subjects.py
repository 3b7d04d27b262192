"""``retention-desk subject``: a subscriber's right of access (export) and to erasure, audited (docs/privacy.md)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click

from retention_desk.cli.common import migrated_settings

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@click.group("subject")
def subject_group() -> None:
    """Export everything stored about one subscriber, or erase their personal data."""


@subject_group.command("export")
@click.argument("account_no")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The JSON file to write (default: subject-ACCOUNT_NO.json in the current folder).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def subject_export(account_no: str, out: Path | None, force: bool) -> None:
    """Write everything stored about the subscriber with ACCOUNT_NO to a JSON file (readable by its owner only).

    The account, its services, bills, tickets, offers, calls with their ranked lists and answers, approval requests,
    and the audit rows about it, including who opened it on the desk. The export itself is audited.
    """
    from retention_desk.services.database import session_scope
    from retention_desk.services.subjects import SubjectError, export_subject

    path = out or Path(f"subject-{_UNSAFE_IN_FILE_NAME.sub('_', account_no.strip())}.json")
    if path.exists() and not force:
        raise SubjectError(f"{path} exists already; pass --force to overwrite it.")
    settings = migrated_settings()
    with session_scope(settings.database_url) as session:
        document = export_subject(session=session, account_no=account_no)
        _write_private(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n", force=force)
    click.echo(f"Wrote everything stored about account {document['account']['account_no']} to {path}.")


@subject_group.command("erase")
@click.argument("account_no")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def subject_erase(account_no: str, yes: bool) -> None:
    """Erase the personal data of the subscriber with ACCOUNT_NO: names, contact details, address, birth year,
    personal import extras and free-text notes. Calls, bills, offers and figures are kept. Cannot be undone."""
    from retention_desk.services.database import session_scope
    from retention_desk.services.subjects import erase_subject, find_subject

    settings = migrated_settings()
    if not yes:
        with session_scope(settings.database_url) as session:
            find_subject(session=session, account_no=account_no)  # an unknown number fails before the question
        click.confirm(
            f"Erase the personal data of account {account_no.strip()}? This cannot be undone.", abort=True, err=True
        )
    with session_scope(settings.database_url) as session:
        erasure = erase_subject(session=session, account_no=account_no)
    click.echo(erasure.describe())


def _write_private(path: Path, text: str, *, force: bool) -> None:
    """Write the file readable by its owner only: it holds a person's data. Without ``force`` an existing file is
    never replaced, even one created since the check above."""
    from retention_desk.services.subjects import SubjectError

    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise SubjectError(f"{path} exists already; pass --force to overwrite it.") from None
    except OSError as exc:
        raise SubjectError(f"{path}: cannot write the file ({exc.strerror or exc}).") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
