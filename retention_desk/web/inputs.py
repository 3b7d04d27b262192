"""The one place request input is refused before any view or the database sees it.

- Text with NUL or another control character (tab, line feed and carriage return aside), in the path, the query or
  a form, is refused with a 400 and a sentence: PostgreSQL refuses NUL in text, and nothing a person types holds one.
- Ids in paths (``<int:…>``) are whole numbers a database key can hold: anything larger is simply not found.
- Days in filters are read by ``day_arg``: ISO dates from 1900 to 2999, or a sentence saying what is wrong.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest key an INTEGER column holds on either database
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadInput(BadRequest):
    """A value the request carried that cannot be used; ``description`` is the sentence shown to the person."""


class DatabaseId(IntegerConverter):
    """``<int:…>`` in a route: a positive whole number that fits a database key; larger ones are not found."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003  (werkzeug's signature)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def whole_number(text: str, *, digits: int = 9) -> int | None:
    """ASCII digits, at most ``digits`` of them, as a number; None for anything else. ``str.isdigit`` alone lets
    through digits ``int()`` refuses (²) and numbers no column holds."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


def day_arg(name: str) -> date | None:
    """The query parameter ``name`` as a day, None when absent; ``BadInput`` names a value that is not a day the
    desk can use."""
    text = (request.args.get(name) or "").strip()
    return parse_day(text) if text else None


def parse_day(text: str) -> date:
    """An ISO date from 1900 to 2999, or ``BadInput`` with the sentence saying what is wrong."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(_("%(value)s is not a date such as 2026-01-31.", value=text[:40])) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadInput(_("%(value)s is outside the dates the desk keeps (1900 to 2999).", value=text[:40]))
    return day


def refuse_control_characters() -> None:
    """A ``before_request`` hook: text with control characters never reaches a view."""
    values = [*(request.view_args or {}).values()]
    values += [item for pair in request.args.items(multi=True) for item in pair]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [item for pair in request.form.items(multi=True) for item in pair]
    if any(isinstance(v, str) and _CONTROL.search(v) for v in values):
        raise BadInput(_("The request holds a control character (such as NUL) that no field accepts."))


def init_app(app: Flask) -> None:
    """Install the id converter (before any route is added) and the control-character check."""
    app.url_map.converters["int"] = DatabaseId
    app.before_request(refuse_control_characters)
