"""The gettext helper every layer uses for words a person reads.

Inside a Flask app context the text goes through Flask-Babel (the user's language, numbers and dates in their
locale). Outside one (the CLI, the simulator, the nightly job) it is the English text with English formats:
Flask-Babel's gettext happens to return the message untranslated there, but its date formatting needs an app,
so this module decides once, explicitly, instead of relying on either behaviour.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import flask_babel
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import has_app_context

FALLBACK_LOCALE = "en"


def _(message: str, **params: Any) -> str:
    if has_app_context():
        return flask_babel.gettext(message, **params)
    return message % params if params else message


def ngettext(singular: str, plural: str, num: int, **params: Any) -> str:
    if has_app_context():
        return flask_babel.ngettext(singular, plural, num, **params)
    return (singular if num == 1 else plural) % {"num": num, **params}


def format_number(value: Any) -> str:
    if has_app_context():
        return flask_babel.format_decimal(value, "#,##0.##")
    return babel_numbers.format_decimal(value, "#,##0.##", locale=FALLBACK_LOCALE)


def format_day(value: date) -> str:
    if has_app_context():
        return flask_babel.format_date(value, "medium")
    return babel_dates.format_date(value, "medium", locale=FALLBACK_LOCALE)
