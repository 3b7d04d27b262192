"""The audit log as CSV, streamed: every row the supervisor's filter matches, newest first, a chunk at a time.

A streamed response outlives the request that started it: the web layer closes the request's session when the
view returns, while the body is still being sent. So the stream opens its own session when it starts and closes it
when it ends, or when the client goes away (the server closes the generator), never borrowing the request's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from retention_desk.services.database import open_session
from retention_desk.services.supervision.oversight import AuditFilter, AuditQuery, resolve_audit_filter
from retention_desk.storage import audit

CSV_CHUNK = 1000
CSV_HEADER = ("at", "user", "action", "entity_type", "entity_id", "address", "detail", "before", "after")
# A cell a spreadsheet would read as a formula (or that hides one behind a tab or a line break).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def audit_log_csv(
    *, session: Session, database_url: str, filters: AuditFilter, chunk: int = CSV_CHUNK
) -> Iterator[str]:
    """The filtered log as CSV text. The filter is checked now, with the request's ``session`` (AuditFilterError
    for an account that does not exist); the rows are read later, as the client takes them, through a session of
    the stream's own on ``database_url``."""
    query = resolve_audit_filter(session=session, filters=filters)
    return _stream(database_url, query, chunk)


def spreadsheet_cell(text: Any) -> str:
    """A text cell a spreadsheet will show as text: one that would start a formula gets a leading apostrophe."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def _stream(database_url: str, query: AuditQuery, chunk: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    session = open_session(database_url)
    try:
        for events in audit.audit_events_stream(session, **query.selection(), chunk=chunk):
            for e in events:
                writer.writerow(
                    [
                        _iso(e.at),
                        *(spreadsheet_cell(v) for v in (e.actor_name, e.action, e.entity_type, e.entity_id, e.ip)),
                        spreadsheet_cell(e.detail),
                        spreadsheet_cell(_json(e.before)),
                        spreadsheet_cell(_json(e.after)),
                    ]
                )
            yield _drain(buffer)
    finally:
        session.close()  # ends the read-only transaction and returns the connection, even if the client left


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _json(document: dict[str, Any] | None) -> str:
    return "" if document is None else json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)
