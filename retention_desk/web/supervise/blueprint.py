"""The supervisor console's blueprint and what its pages share: the date range of a filter form."""

from __future__ import annotations

from datetime import date

from flask import Blueprint

from retention_desk.web.inputs import BadInput, day_arg

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


def date_range_args() -> tuple[dict[str, date], str | None]:
    """``from`` and ``to`` of the query string as ``date_from`` / ``date_to``, and the message for one that is not a
    date the desk can use (reported to the supervisor, not silently dropped)."""
    values: dict[str, date] = {}
    error = None
    for name, key in (("date_from", "from"), ("date_to", "to")):
        try:
            day = day_arg(key)
        except BadInput as exc:
            error = exc.description
            continue
        if day is not None:
            values[name] = day
    return values, error


def date_arg(name: str) -> date | None:
    """A bad date is ignored rather than refused: the filter form shows what was actually applied."""
    try:
        return day_arg(name)
    except BadInput:
        return None
