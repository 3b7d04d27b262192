"""How long work tells the person waiting where it has got to, without knowing who draws it.

Services and models take a ``Progress`` and call it; the command line passes one that draws bars on stderr
(``cli/progress.py``), everything else gets ``SILENT``. No service prints.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, label: str, total: float | None = None, unit: str = "") -> None:
        """A new stage of the work (ends the one before); ``total`` in ``unit``s when known."""

    def advance(self, amount: float = 1, note: str | None = None) -> None:
        """``amount`` more units of the current stage are done; ``note`` says what was last done."""

    def say(self, message: str) -> None:
        """One line about the work, between stages."""

    def done(self) -> None:
        """The work is over (ends the current stage)."""


class _Silent:
    def stage(self, label: str, total: float | None = None, unit: str = "") -> None:
        pass

    def advance(self, amount: float = 1, note: str | None = None) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def done(self) -> None:
        pass


SILENT: Progress = _Silent()
