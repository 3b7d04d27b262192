"""The agent's words for churn reasons: each reason code with its parameters, in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import format_date, format_decimal, format_percent, ngettext
from flask_babel import gettext as _

from retention_desk.domain.reasons import Reason
from retention_desk.web.filters import money

Phrase = Callable[[dict[str, Any]], str]

CONTRACTS: dict[str, Callable[[], str]] = {
    "month_to_month": lambda: _("month-to-month contract"),
    "one_year": lambda: _("one-year contract"),
    "two_year": lambda: _("two-year contract"),
}


def _since(p: dict[str, Any]) -> str:
    return format_date(p["since"], "MMMM y")


def _num(value: float) -> str:
    return format_decimal(value, "#,##0.#")


def _text(value: str) -> str:
    return value.replace("_", " ")


PHRASES: dict[str, Phrase] = {
    "contract": lambda p: (
        CONTRACTS[p["value"]]() if p["value"] in CONTRACTS else _("contract: %(value)s", value=_text(p["value"]))
    ),
    "payment": lambda p: _("pays by %(method)s", method=_text(p["value"])),
    "segment": lambda p: _("customer segment: %(value)s", value=_text(p["value"])),
    "region": lambda p: _("region: %(value)s", value=_text(p["value"])),
    "plan": lambda p: _("plan %(value)s", value=p["value"]),
    "tenure_years": lambda p: ngettext("customer for %(num)s year", "customer for %(num)s years", p["num"]),
    "tenure_months": lambda p: ngettext("customer for %(num)s month", "customer for %(num)s months", p["num"]),
    "tenure_unknown": lambda p: _("customer since: not known"),
    "contract_ends_in": lambda p: ngettext(
        "contract ends in %(num)s month", "contract ends in %(num)s months", p["num"]
    ),
    "contract_ends_this_month": lambda p: _("contract ends within a month"),
    "contract_ended": lambda p: ngettext(
        "contract ended %(num)s month ago", "contract ended %(num)s months ago", p["num"]
    ),
    "no_contract_end": lambda p: _("no contract end date"),
    "monthly_charge": lambda p: _("monthly charge %(amount)s", amount=money(p["value"])),
    "bill_up_since": lambda p: _("bill up %(percent)s%% since %(month)s", percent=p["percent"], month=_since(p)),
    "bill_down_since": lambda p: _("bill down %(percent)s%% since %(month)s", percent=p["percent"], month=_since(p)),
    "bill_same_since": lambda p: _("bill unchanged since %(month)s", month=_since(p)),
    "bill_up": lambda p: _("bill up %(percent)s%% in %(months)s months", percent=p["percent"], months=p["months"]),
    "bill_down": lambda p: _("bill down %(percent)s%% in %(months)s months", percent=p["percent"], months=p["months"]),
    "bill_same": lambda p: _("bill unchanged in %(months)s months", months=p["months"]),
    "no_bill_comparison": lambda p: _("too few bills to compare"),
    "bill_rose_months_ago": lambda p: (
        _("bill went up this month")
        if p["num"] == 0
        else ngettext("bill went up %(num)s month ago", "bill went up %(num)s months ago", p["num"])
    ),
    "no_bill_rise": lambda p: _("no price rise on the bills"),
    "bills_unpaid": lambda p: (
        _("all bills paid") if p["num"] == 0 else ngettext("%(num)s unpaid bill", "%(num)s unpaid bills", p["num"])
    ),
    "bills_late": lambda p: (
        _("no late payments in 12 months")
        if p["num"] == 0
        else ngettext("%(num)s late payment in 12 months", "%(num)s late payments in 12 months", p["num"])
    ),
    "services": lambda p: ngettext("%(num)s service", "%(num)s services", p["num"]),
    "tv": lambda p: _("has TV"),
    "no_tv": lambda p: _("no TV"),
    "broadband": lambda p: _("has broadband"),
    "no_broadband": lambda p: _("no broadband"),
    "mobile": lambda p: _("has mobile"),
    "no_mobile": lambda p: _("no mobile"),
    "premium_channels": lambda p: (
        _("no premium channels")
        if p["num"] == 0
        else ngettext("%(num)s premium channel", "%(num)s premium channels", p["num"])
    ),
    "tickets": lambda p: (
        _("no tickets in %(days)s days", days=p["days"])
        if p["num"] == 0
        else ngettext("%(num)s ticket in %(days)s days", "%(num)s tickets in %(days)s days", p["num"], days=p["days"])
    ),
    "outages": lambda p: (
        _("no outages in %(days)s days", days=p["days"])
        if p["num"] == 0
        else ngettext("%(num)s outage in %(days)s days", "%(num)s outages in %(days)s days", p["num"], days=p["days"])
    ),
    "outage_hours": lambda p: (
        _("no outage hours in 90 days")
        if p["value"] == 0
        else _("%(hours)s hours of outage in 90 days", hours=_num(p["value"]))
    ),
    "offers_before": lambda p: (
        _("no earlier retention offers")
        if p["num"] == 0
        else ngettext("%(num)s earlier retention offer", "%(num)s earlier retention offers", p["num"])
    ),
    "offers_accepted": lambda p: (
        _("never accepted a retention offer")
        if p["num"] == 0
        else ngettext("accepted %(num)s earlier offer", "accepted %(num)s earlier offers", p["num"])
    ),
    "last_offer_days": lambda p: ngettext("last offer %(num)s day ago", "last offer %(num)s days ago", p["num"]),
    "no_earlier_offer": lambda p: _("never had a retention offer"),
    "extra_high": lambda p: _("%(name)s is high (%(value)s)", name=p["name"], value=_num(p["value"])),
    "extra_low": lambda p: _("%(name)s is low (%(value)s)", name=p["name"], value=_num(p["value"])),
    "extra_text": lambda p: _("%(name)s: %(value)s", name=p["name"], value=p["value"]),
    "number": lambda p: _("%(name)s: %(value)s", name=p["name"], value=_num(p["value"])),
    "unknown": lambda p: _("%(name)s: not known", name=p["name"]),
}


def reason_text(reason: Reason) -> str:
    """The reason as the agent reads it, e.g. "bill up 18% since March 2026" or "3 outages in 90 days"."""
    unknown = {"name": reason.feature.replace("_", " ")}
    phrase = PHRASES.get(reason.code)
    if phrase is None:
        return PHRASES["unknown"](unknown)
    try:
        return phrase(reason.params)
    except (KeyError, TypeError, ValueError):  # a reason logged by an older model, with other parameters
        return PHRASES["unknown"](unknown)


def percent(probability: float) -> str:
    """A probability as the agent reads it, "48%" (or "48 %"), in the user's locale."""
    return format_percent(probability)
