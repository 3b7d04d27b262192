"""CSV exports that a spreadsheet opens safely, streamed a chunk of rows at a time.

Any text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe, whatever the column: account numbers and team names come from imports and users
as much as notes do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_stream(header: Sequence[str], chunks: Iterable[Iterable[Sequence[Any]]]) -> Iterator[str]:
    """The header, then each chunk of rows, as CSV text; every text cell made safe to open."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield _drain(buffer)
    for rows in chunks:
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
        yield _drain(buffer)


def spreadsheet_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, quoted with a leading apostrophe; other values as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def iso_utc(moment: datetime | None) -> str:
    """A moment as an ISO 8601 UTC timestamp to the second, or nothing."""
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
