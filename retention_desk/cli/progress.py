"""Progress bars on stderr for long commands: the ``Progress`` the services report to (``domain.progress``)."""

from __future__ import annotations

import sys
from typing import Any

import click
from tqdm import tqdm

from retention_desk.domain.progress import SILENT, Progress

_SCALED_UNITS = ("B", " rows")


class BarProgress:
    """One tqdm bar per stage; a stage without a total counts up."""

    def __init__(self) -> None:
        self._bar: Any = None

    def stage(self, label: str, total: float | None = None, unit: str = "") -> None:
        self._close()
        self._bar = tqdm(total=total, desc=label, unit=unit or "it", unit_scale=unit in _SCALED_UNITS, file=sys.stderr)

    def advance(self, amount: float = 1, note: str | None = None) -> None:
        if self._bar is None:
            return
        if note:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(amount)

    def say(self, message: str) -> None:
        if self._bar is not None:
            tqdm.write(message, file=sys.stderr)
        else:
            click.echo(message, err=True)

    def done(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_shown(quiet: bool) -> Progress:
    """Bars unless the operator asked for quiet."""
    return SILENT if quiet else BarProgress()
