"""Translated words for the codes stored in the database (status, contract type, kinds, outcomes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    "status": {"active": _l("active"), "cancelled": _l("cancelled"), "suspended": _l("suspended")},
    "contract": {
        "month_to_month": _l("month to month"),
        "one_year": _l("one year"),
        "two_year": _l("two years"),
    },
    "service": {
        "tv": _l("TV"),
        "broadband": _l("Broadband"),
        "mobile": _l("Mobile"),
        "premium": _l("Premium channel"),
    },
    "ticket": {
        "outage": _l("outage"),
        "fault": _l("fault"),
        "billing": _l("billing"),
        "complaint": _l("complaint"),
        "installation": _l("installation"),
    },
    "response": {"accepted": _l("accepted"), "declined": _l("declined")},
    "disposition": {
        "saved_offer": _l("saved with offer"),
        "saved_with_offer": _l("saved with offer"),
        "saved_no_offer": _l("saved without offer"),
        "saved_without_offer": _l("saved without offer"),
        "downgraded": _l("downgraded"),
        "cancelled": _l("cancelled"),
        "callback": _l("callback"),
        "escalated": _l("escalated"),
    },
    "role": {"agent": _l("agent"), "supervisor": _l("supervisor"), "admin": _l("admin")},
}


def label(kind: str, code: str | None) -> str:
    """The word for ``code`` in the user's language; an unknown code is shown as it is stored."""
    if code is None:
        return ""
    word = LABELS.get(kind, {}).get(code)
    return str(word) if word is not None else code
