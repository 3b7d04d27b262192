"""Why an offer is not permitted, in the agent's words and language (through ``domain.i18n``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retention_desk.domain.i18n import _, format_day, format_number, ngettext
from retention_desk.offers.eligibility import Refusal


def _months(value: float) -> int:
    return int(value)  # "has 3" for 3.9 months: only completed months count


def _contract(value: str | None) -> str:
    words = {
        "month_to_month": lambda: _("month-to-month"),
        "one_year": lambda: _("one-year"),
        "two_year": lambda: _("two-year"),
    }
    if value in words:
        return words[value]()
    return _("unknown") if value is None else value.replace("_", " ")


def _service(item: str) -> str:
    """ "premium:sport" → "premium channel sport", "tv:TV_MAX" → "TV TV_MAX", "mobile" → "mobile"."""
    kind, _sep, code = item.partition(":")
    kinds = {
        "tv": lambda: _("TV"),
        "broadband": lambda: _("broadband"),
        "mobile": lambda: _("mobile"),
        "premium": lambda: _("premium channel"),
    }
    name = kinds[kind]() if kind in kinds else kind
    return f"{name} {code}" if code else name


def _offer_kind(kind: str) -> str:
    kinds = {
        "percent_discount": lambda: _("a discount"),
        "bill_credit": lambda: _("a bill credit"),
        "premium_channel": lambda: _("free premium channels"),
        "upgrade": lambda: _("an upgrade"),
        "downgrade": lambda: _("a downgrade"),
        "pause": lambda: _("a pause"),
        "loyalty_bonus": lambda: _("a loyalty bonus"),
    }
    return kinds[kind]() if kind in kinds else kind.replace("_", " ")


def _listed(values: list[str]) -> str:
    return ", ".join(values)


def _plan(p: dict[str, Any]) -> str:
    if p["has"] is None:
        return _("only for plans %(plans)s (plan not known)", plans=_listed(p["allowed"]))
    return _("only for plans %(plans)s (has %(plan)s)", plans=_listed(p["allowed"]), plan=p["has"])


def _contract_type(p: dict[str, Any]) -> str:
    allowed = _listed([_contract(c) for c in p["allowed"]])
    return _("only for %(allowed)s contracts (has %(has)s)", allowed=allowed, has=_contract(p["has"]))


def _min_tenure(p: dict[str, Any]) -> str:
    num = _months(p["months"])
    if p["has"] is None:
        return ngettext(
            "needs %(num)s month with us (how long is not known)",
            "needs %(num)s months with us (how long is not known)",
            num,
        )
    return ngettext(
        "needs %(num)s month with us (has %(has)s)",
        "needs %(num)s months with us (has %(has)s)",
        num,
        has=_months(p["has"]),
    )


def _max_tenure(p: dict[str, Any]) -> str:
    num = _months(p["months"])
    if p["has"] is None:
        return ngettext(
            "only for customers of at most %(num)s month (how long is not known)",
            "only for customers of at most %(num)s months (how long is not known)",
            num,
        )
    return ngettext(
        "only for customers of at most %(num)s month (has %(has)s)",
        "only for customers of at most %(num)s months (has %(has)s)",
        num,
        has=_months(p["has"]),
    )


def _region(p: dict[str, Any]) -> str:
    allowed = _listed(p["allowed"])
    if p["has"] is None:
        return _("only in %(allowed)s (region not known)", allowed=allowed)
    return _("only in %(allowed)s (lives in %(has)s)", allowed=allowed, has=p["has"])


def _segment(p: dict[str, Any]) -> str:
    allowed = _listed([v.replace("_", " ") for v in p["allowed"]])
    if p["has"] is None:
        return _("only for customers who are %(allowed)s (segment not known)", allowed=allowed)
    return _("only for customers who are %(allowed)s (is %(has)s)", allowed=allowed, has=p["has"].replace("_", " "))


def _cooldown(p: dict[str, Any]) -> str:
    kind = _offer_kind(p["kind"])
    wait = ngettext(
        "wait %(num)s day between offers of this kind", "wait %(num)s days between offers of this kind", p["wait_days"]
    )
    if p["days_ago"] == 0:
        return _("had %(kind)s today; %(wait)s", kind=kind, wait=wait)
    return ngettext(
        "had %(kind)s %(num)s day ago; %(wait)s",
        "had %(kind)s %(num)s days ago; %(wait)s",
        p["days_ago"],
        kind=kind,
        wait=wait,
    )


PHRASES: dict[str, Callable[[dict[str, Any]], str]] = {
    "inactive": lambda p: _("this offer is retired"),
    "not_yet_valid": lambda p: _("can be offered from %(date)s", date=format_day(p["from"])),
    "expired": lambda p: _("could be offered until %(date)s", date=format_day(p["to"])),
    "plan": _plan,
    "contract_type": _contract_type,
    "min_tenure": _min_tenure,
    "max_tenure": _max_tenure,
    "min_charge": lambda p: _(
        "needs a monthly charge of at least %(amount)s (pays %(has)s)",
        amount=format_number(p["amount"]),
        has=format_number(p["has"]),
    ),
    "max_charge": lambda p: _(
        "only for a monthly charge of at most %(amount)s (pays %(has)s)",
        amount=format_number(p["amount"]),
        has=format_number(p["has"]),
    ),
    "region": _region,
    "segment": _segment,
    "already_has": lambda p: _("already has %(service)s", service=_service(p["item"])),
    "cooldown": _cooldown,
    "max_per_year": lambda p: ngettext(
        "accepted it %(num)s time in the last 12 months; at most %(limit)s a year",
        "accepted it %(num)s times in the last 12 months; at most %(limit)s a year",
        p["count"],
        limit=p["limit"],
    ),
    "budget_spent": lambda p: _("this month's budget is spent"),
}


def describe_refusal(refusal: Refusal) -> str:
    """The reason as the agent reads it, e.g. "needs 6 months with us (has 3)" or "this month's budget is spent"."""
    phrase = PHRASES.get(refusal.code)
    if phrase is None:
        return _("not permitted (%(code)s)", code=refusal.code)
    return phrase(refusal.params)
