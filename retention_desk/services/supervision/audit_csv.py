"""The audit log as CSV, streamed: every row the supervisor's filter matches, newest first, a chunk at a time.

A streamed response outlives the request that started it: the web layer closes the request's session when the
view returns, while the body is still being sent. So the stream opens its own session when it starts and closes it
when it ends, or when the client goes away (the server closes the generator), never borrowing the request's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session

from retention_desk.services.database import open_session
from retention_desk.services.exports import csv_stream, iso_utc
from retention_desk.services.supervision.oversight import AuditFilter, AuditQuery, resolve_audit_filter
from retention_desk.storage import audit

CSV_CHUNK = 1000
CSV_HEADER = ("at", "user", "action", "entity_type", "entity_id", "address", "detail", "before", "after")


def audit_log_csv(
    *, session: Session, database_url: str, filters: AuditFilter, chunk: int = CSV_CHUNK
) -> Iterator[str]:
    """The filtered log as CSV text. The filter is checked now, with the request's ``session`` (AuditFilterError
    for an account that does not exist); the rows are read later, as the client takes them, through a session of
    the stream's own on ``database_url``."""
    query = resolve_audit_filter(session=session, filters=filters)
    return _stream(database_url, query, chunk)


def _stream(database_url: str, query: AuditQuery, chunk: int) -> Iterator[str]:
    session = open_session(database_url)
    try:
        yield from csv_stream(CSV_HEADER, _rows(session, query, chunk))
    finally:
        session.close()  # ends the read-only transaction and returns the connection, even if the client left


def _rows(session: Session, query: AuditQuery, chunk: int) -> Iterator[list[list[Any]]]:
    for events in audit.audit_events_stream(session, **query.selection(), chunk=chunk):
        yield [
            [
                iso_utc(e.at),
                e.actor_name,
                e.action,
                e.entity_type,
                e.entity_id,
                e.ip,
                e.detail,
                _json(e.before),
                _json(e.after),
            ]
            for e in events
        ]


def _json(document: dict[str, Any] | None) -> str:
    return "" if document is None else json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)
