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
# How long a term contract runs before it renews for another term of the same length; month-to-month has none.
CONTRACT_TERM_MONTHS: dict[str, int] = {"one_year": 12, "two_year": 24}
SERVICE_KINDS: tuple[str, ...] = ("tv", "broadband", "mobile", "premium")
# How a desk call ended. "Saved" dispositions are what the agent saw; the models learn from what happened later.
DISPOSITIONS: tuple[str, ...] = (
    "saved_with_offer",
    "saved_without_offer",
    "downgraded",
    "cancelled",
    "callback",
    "escalated",
)
# A caller's answer to a presented offer; an accepted offer is withdrawn when the call ends in a cancellation.
ACCEPTED, DECLINED, WITHDRAWN = "accepted", "declined", "withdrawn"
OFFER_RESPONSES: tuple[str, ...] = (ACCEPTED, DECLINED, WITHDRAWN)
# Where a request for an offer above an agent's authority stands (a withdrawn request was taken back).
PENDING, APPROVED, DENIED = "pending", "approved", "denied"
APPROVAL_STATUSES: tuple[str, ...] = (PENDING, APPROVED, DENIED, WITHDRAWN)
