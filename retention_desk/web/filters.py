"""Jinja filters: money, dates and phone numbers as the signed-in user's locale writes them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, format_datetime, format_decimal

from retention_desk.domain.contact import format_phone
from retention_desk.web.context import app_settings


def money(value: Decimal | float | int | None, currency: str | None = None) -> str:
    if value is None:
        return ""
    return format_currency(value, currency or app_settings().currency)


def signed_money(value: Decimal | float | int | None, currency: str | None = None) -> str:
    """A change in money with its sign, so a rise and a fall read differently."""
    if value is None:
        return ""
    text = money(value, currency)
    return f"+{text}" if value > 0 else text


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value.date() if isinstance(value, datetime) else value, fmt)


def moment(value: datetime | None, fmt: str = "short") -> str:
    return "" if value is None else format_datetime(value, fmt)


def number(value: float | int | None, fmt: str | None = None) -> str:
    return "" if value is None else format_decimal(value, fmt)


def phone(value: str | None) -> str:
    return format_phone(value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, signed_money=signed_money, day=day, moment=moment, number=number, phone=phone
    )
