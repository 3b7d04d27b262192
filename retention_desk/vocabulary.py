"""The product's fixed vocabularies, named once: every module that validates or generates them imports these."""

from __future__ import annotations

OFFER_KINDS: tuple[str, ...] = (
    "percent_discount",
    "bill_credit",
    "premium_channel",
    "upgrade",
    "downgrade",
    "pause",
    "loyalty_bonus",
)
CONTRACT_TYPES: tuple[str, ...] = ("month_to_month", "one_year", "two_year")
