"""Normalised phone numbers and e-mail addresses: one spelling stored, any common spelling found."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str | None, region: str = "NO") -> str | None:
    """E.164 (``+4791234567``) for any common way of writing a number, or None if it is not one.

    "912 34 567", "+47 912 34 567", "0047 91234567" and "(+47) 91-23-45-67" all give the same key.
    """
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """The number as an agent reads it aloud, in its country's own grouping."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def normalise_email(raw: str | None) -> str | None:
    if not raw or "@" not in raw:
        return None
    return raw.strip().lower()
