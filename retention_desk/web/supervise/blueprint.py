"""The supervisor console's blueprint and what its pages share: the date range of a filter form."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, request
from flask_babel import gettext as _

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


def date_range_args() -> tuple[dict[str, date], str | None]:
    """``from`` and ``to`` of the query string as ``date_from`` / ``date_to``, and the message for one that is not a
    date (reported to the supervisor, not silently dropped)."""
    values: dict[str, date] = {}
    error = None
    for name, key in (("date_from", "from"), ("date_to", "to")):
        text = (request.args.get(key) or "").strip()
        if text:
            try:
                values[name] = date.fromisoformat(text)
            except ValueError:
                error = _("%(value)s is not a date such as 2026-01-31.", value=text[:40])
    return values, error


def date_arg(name: str) -> date | None:
    """A bad date is ignored rather than refused: the filter form shows what was actually applied."""
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None
