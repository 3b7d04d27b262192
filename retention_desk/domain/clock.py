"""The one clock: aware UTC datetimes (storage keeps UTC; screens convert to the deployment's time zone)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
