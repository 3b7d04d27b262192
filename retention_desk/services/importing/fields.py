"""The account fields an import can fill, and how a cell's text becomes each one's stored value (or the reason it
cannot): shared by the mapping's check of its defaults and by the row conversion."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from retention_desk.domain.contact import normalise_email, normalise_phone

TEXT_FIELDS = {  # account field -> longest value the column takes
    "account_no": 40,
    "first_name": 80,
    "last_name": 80,
    "email": 200,
    "phone": 40,
    "address": 200,
    "postcode": 12,
    "city": 80,
    "region": 80,
    "segment": 40,
    "plan_code": 40,
    "payment_method": 30,
}


CHOICE_FIELDS = {
    "contract_type": ("month_to_month", "one_year", "two_year"),
    "status": ("active", "cancelled", "suspended"),
}


DATE_FIELDS = ("contract_end", "customer_since")


ACCOUNT_FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, *DATE_FIELDS, "monthly_charge", "currency", "birth_year")


MAX_MONEY = Decimal("9999999999.99")


_NUMBER = {
    sep: re.compile(rf"[+-]?(?:[0-9]+(?:{re.escape(sep)}[0-9]*)?|{re.escape(sep)}[0-9]+)(?:[eE][+-]?[0-9]+)?")
    for sep in ".,"
}


_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")


def parse_number(text: str, decimal: str = ".") -> int | float | None:
    """A number as written in the file, or None if the text is not one (leading zeros keep codes as text)."""
    if text.isdigit() and text.isascii():  # the common case, without a regular expression
        return int(text) if len(text) == 1 or text[0] != "0" else None
    if not _NUMBER[decimal].fullmatch(text) or _LEADING_ZERO.match(text):  # "0150" is a code, not 150
        return None
    if decimal in text or "e" in text.lower():
        number = float(text.replace(decimal, "."))
        return number if math.isfinite(number) else None
    return int(text)


def _parse_text(field: str) -> Callable[[str], str]:
    limit = TEXT_FIELDS[field]

    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return text

    return parse


def _parse_choice(field: str) -> Callable[[str], str]:
    allowed = CHOICE_FIELDS[field]

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"is not one of {', '.join(allowed)} (map it under [values.{field}])")
        return text

    return parse


def _parse_money(text: str, decimal: str = ".") -> Decimal:
    number = parse_number(text.replace(" ", ""), decimal)
    if number is None:
        raise ValueError("is not an amount of money")
    amount = Decimal(str(number))
    if amount < 0:
        raise ValueError("is negative")
    if amount > MAX_MONEY:
        raise ValueError("is too large")
    return amount.quantize(Decimal("0.01"))


def _parse_currency(text: str) -> str:
    if len(text) != 3 or not text.isalpha():
        raise ValueError("is not a three-letter currency code such as NOK")
    return text.upper()


def _parse_birth_year(text: str) -> int:
    year = parse_number(text)
    if not isinstance(year, int) or not 1900 <= year <= date.today().year:
        raise ValueError("is not a year of birth")
    return year


def _parse_date(date_format: str) -> Callable[[str], date]:
    def parse(text: str) -> date:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise ValueError(f"is not a date written like {date(2026, 1, 31).strftime(date_format)}") from None

    return parse


def field_parsers(
    *, date_format: str = "%Y-%m-%d", decimal: str = ".", phone_region: str = "NO"
) -> dict[str, Callable[[str], Any]]:
    """Text -> stored value, per account field; raises ValueError with the reason."""
    parsers: dict[str, Callable[[str], Any]] = {key: _parse_text(key) for key in TEXT_FIELDS}
    parsers.update({key: _parse_choice(key) for key in CHOICE_FIELDS})
    parsers.update({key: _parse_date(date_format) for key in DATE_FIELDS})
    parsers["monthly_charge"] = lambda text: _parse_money(text, decimal)
    parsers["currency"] = _parse_currency
    parsers["birth_year"] = _parse_birth_year

    def email(text: str) -> str:
        if normalise_email(text) is None or " " in text:
            raise ValueError("is not an e-mail address")
        return _parse_text("email")(text)

    def phone(text: str) -> str:
        if normalise_phone(text, phone_region) is None:
            raise ValueError(f"is not a phone number (read with country {phone_region})")
        return _parse_text("phone")(text)

    parsers["email"] = email
    parsers["phone"] = phone
    return parsers


def parse_default(key: str, value: Any, parsers: Mapping[str, Callable[[str], Any]] | None = None) -> Any:
    """A [defaults] value as stored; TOML dates and numbers are accepted as they are."""
    if key in DATE_FIELDS and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if key in DATE_FIELDS and isinstance(value, str):
        return _parse_date("%Y-%m-%d")(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be a text or a number, not {value!r}")
    text = str(value)
    if key == "monthly_charge":
        return _parse_money(text)
    if key == "birth_year":
        return _parse_birth_year(text)
    return (parsers or field_parsers())[key](text)


def check_default(key: str, value: Any) -> str | None:
    """The problem with a [defaults] value, or None."""
    try:
        parse_default(key, value)
    except ValueError as exc:
        return str(exc)
    return None
