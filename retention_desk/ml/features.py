"""The one place churn features are computed, for training and serving alike, so the two cannot drift.

Pure: no I/O. Every feature uses only information dated strictly before ``as_of`` (bills by period start,
tickets by opening time, offers by when they were made, services by their start and end dates), so a
training row built "as of the call" sees what the desk could have seen then.

Protected attributes (``birth_year``, and extras named like age or gender) are kept out of the features for
now: the model must not rank callers by them. A fairness review may later use them for measurement only.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from retention_desk.domain.vocabulary import CONTRACT_TERM_MONTHS
from retention_desk.storage.snapshots import AccountSnapshot, BillItem, OfferItem, ServiceItem, TicketItem

__all__ = [
    "AccountSnapshot",
    "BillItem",
    "OfferItem",
    "ServiceItem",
    "TicketItem",
    "bill_comparison_periods",
    "build_features",
    "feature_columns",
    "rows_to_frame",
    "running_term_end",
]

DAYS_PER_MONTH = 30.4375
MISSING = "missing"
EXTRA_PREFIX = "x_"
# Never features: compared after lower-casing and dropping "_" and "-".
PROTECTED_ATTRIBUTES = frozenset({"birthyear", "age", "gender", "sex", "seniorcitizen", "ethnicity", "religion"})

NUMERIC_FEATURES: tuple[str, ...] = (
    "tenure_months",
    "months_to_contract_end",
    "monthly_charge",
    "bill_change_3m",
    "bill_change_12m",
    "months_since_bill_rise",
    "bills_unpaid",
    "bills_late_12m",
    "n_services",
    "has_tv",
    "has_broadband",
    "has_mobile",
    "n_premium_channels",
    "tickets_30d",
    "tickets_90d",
    "outages_30d",
    "outages_90d",
    "outage_hours_90d",
    "offers_before",
    "offers_accepted_before",
    "days_since_last_offer",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("contract_type", "payment_method", "segment", "region", "plan_code")
FEATURE_NAMES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

Feature = float | str


def build_features(snapshot: AccountSnapshot, as_of: datetime) -> dict[str, Feature]:
    """Features of one account as the desk could see it just before ``as_of`` (an aware UTC datetime)."""
    today = as_of.date()
    row: dict[str, Feature] = {
        "tenure_months": _months_between(snapshot.customer_since, today),
        "months_to_contract_end": _months_between(
            today, running_term_end(snapshot.contract_type, snapshot.contract_end, today)
        ),
        "monthly_charge": float(snapshot.monthly_charge),
        "contract_type": _category(snapshot.contract_type),
        "payment_method": _category(snapshot.payment_method),
        "segment": _category(snapshot.segment),
        "region": _category(snapshot.region),
        "plan_code": _category(snapshot.plan_code),
    }
    row.update(_bill_features(snapshot.bills, today))
    row.update(_service_features(snapshot.services, today))
    row.update(_ticket_features(snapshot.tickets, as_of))
    row.update(_offer_features(snapshot.offers, as_of))
    row.update(extra_features(snapshot.extra))
    return row


def is_protected(name: str) -> bool:
    return name.lower().replace("_", "").replace("-", "") in PROTECTED_ATTRIBUTES


def extra_features(extra: Mapping[str, Any]) -> dict[str, Feature]:
    """Imported extra columns: numbers become float features, anything else a category (``x_<name>``)."""
    out: dict[str, Feature] = {}
    for name, value in sorted(extra.items()):
        if name.startswith("_") or is_protected(name):  # "_protected" and other bookkeeping: never features
            continue
        key = EXTRA_PREFIX + name
        if isinstance(value, int | float):  # bool is an int: True/False become 1.0/0.0
            out[key] = float(value)
        else:
            out[key] = _category(value)
    return out


def running_term_end(contract_type: str | None, contract_end: date | None, today: date) -> date | None:
    """The end of the contract term that was running on ``today``.

    Term contracts renew, and the account row holds only the current term's end: seen from a call months ago,
    that end lies whole terms later than the end the caller then faced. Stepping back whole terms until the end is
    within one term of ``today`` keeps a training row's feature what the desk saw at the call; for today it changes
    nothing. An end already passed, a missing one, or a contract without a known term is returned as stored.
    """
    term = CONTRACT_TERM_MONTHS.get(contract_type or "")
    if contract_end is None or term is None or contract_end <= today:
        return contract_end
    months_ahead = (contract_end.year - today.year) * 12 + contract_end.month - today.month
    terms_back = max(0, (months_ahead - 1) // term)  # a first guess, corrected by at most a step either way
    while terms_back > 0 and _months_earlier(contract_end, terms_back * term) <= today:
        terms_back -= 1
    while _months_earlier(contract_end, (terms_back + 1) * term) > today:
        terms_back += 1
    return _months_earlier(contract_end, terms_back * term)


def _months_earlier(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier, or that month's last day when it is shorter (29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _months_between(start: date | None, end: date | None) -> float:
    if start is None or end is None:
        return math.nan
    return (end - start).days / DAYS_PER_MONTH


def _category(value: Any) -> str:
    if value is None:
        return MISSING
    text = str(value).strip()
    return text if text else MISSING


def _bill_features(bills: Iterable[BillItem], today: date) -> dict[str, float]:
    seen = _bills_before(bills, today)
    year_ago = today - timedelta(days=365)
    unpaid = sum(1 for b in seen if b.due_on and b.due_on < today and (b.paid_on is None or b.paid_on >= today))
    # Late: due in the last year and paid after the due date, or still unpaid today.
    late = sum(
        1 for b in seen if b.due_on and year_ago <= b.due_on < today and (b.paid_on is None or b.paid_on > b.due_on)
    )
    return {
        "bill_change_3m": _bill_ratio(seen, 3),
        "bill_change_12m": _bill_ratio(seen, 12),
        "months_since_bill_rise": _months_since_rise(seen, today),
        "bills_unpaid": float(unpaid),
        "bills_late_12m": float(late),
    }


def _bills_before(bills: Iterable[BillItem], today: date) -> list[BillItem]:
    return sorted((b for b in bills if b.period_start < today), key=lambda b: b.period_start)


def compared_bill(seen: Sequence[BillItem], months: int) -> BillItem | None:
    """The earlier bill a change "over ``months`` months" compares the newest one with.

    The bill about ``months`` before the newest; with a shorter history, the oldest bill when it is at least
    two months older (so a customer of eight months still shows the rise they lived through).
    """
    if len(seen) < 2:
        return None
    newest = seen[-1].period_start
    cutoff = newest - timedelta(days=round(months * DAYS_PER_MONTH) - 5)
    earlier = [b for b in seen if b.period_start <= cutoff]
    if earlier:
        return earlier[-1]
    oldest = seen[0]
    return oldest if (newest - oldest.period_start).days >= 2 * DAYS_PER_MONTH - 5 else None


def bill_comparison_periods(snapshot: AccountSnapshot, as_of: datetime) -> dict[str, date]:
    """The period of the bill each bill-change feature compares with, so a reason can say "since March"."""
    seen = _bills_before(snapshot.bills, as_of.date())
    out: dict[str, date] = {}
    for name, months in (("bill_change_3m", 3), ("bill_change_12m", 12)):
        bill = compared_bill(seen, months)
        if bill is not None:
            out[name] = bill.period_start
    return out


def _bill_ratio(seen: Sequence[BillItem], months: int) -> float:
    """Newest bill over the compared one (1.0 = unchanged); NaN without a comparison."""
    earlier = compared_bill(seen, months)
    if earlier is None or float(earlier.amount) <= 0:
        return math.nan
    return float(seen[-1].amount) / float(earlier.amount)


def _months_since_rise(seen: Sequence[BillItem], today: date) -> float:
    """Months since the bill last went up by more than 2% from one month to the next; NaN if never seen."""
    for earlier, later in zip(reversed(seen[:-1]), reversed(seen[1:]), strict=True):
        if float(earlier.amount) > 0 and float(later.amount) > 1.02 * float(earlier.amount):
            return _months_between(later.period_start, today)
    return math.nan


def _service_features(services: Iterable[ServiceItem], today: date) -> dict[str, float]:
    # Day-dated facts from the as-of day itself are not "before" it: a service ended or started that day
    # (often by the call's own outcome) still counts as it was at the start of the day.
    active = [
        s
        for s in services
        if (s.started_on is None or s.started_on < today) and (s.ended_on is None or s.ended_on >= today)
    ]
    kinds = [s.kind for s in active]
    return {
        "n_services": float(len(active)),
        "has_tv": float("tv" in kinds),
        "has_broadband": float("broadband" in kinds),
        "has_mobile": float("mobile" in kinds),
        "n_premium_channels": float(kinds.count("premium")),
    }


def _ticket_features(tickets: Iterable[TicketItem], as_of: datetime) -> dict[str, float]:
    since_30, since_90 = as_of - timedelta(days=30), as_of - timedelta(days=90)
    recent = [t for t in tickets if since_90 <= t.opened_at < as_of]
    outages = [t for t in recent if t.kind == "outage"]
    return {
        "tickets_30d": float(sum(1 for t in recent if t.opened_at >= since_30)),
        "tickets_90d": float(len(recent)),
        "outages_30d": float(sum(1 for t in outages if t.opened_at >= since_30)),
        "outages_90d": float(len(outages)),
        "outage_hours_90d": float(sum(t.duration_hours or 0.0 for t in outages)),
    }


def _offer_features(offers: Iterable[OfferItem], as_of: datetime) -> dict[str, float]:
    before = [o for o in offers if o.offered_at < as_of]
    last = max((o.offered_at for o in before), default=None)
    return {
        "offers_before": float(len(before)),
        "offers_accepted_before": float(sum(1 for o in before if o.response == "accepted")),
        "days_since_last_offer": (as_of - last).total_seconds() / 86400 if last else math.nan,
    }


def feature_columns(rows: Iterable[Mapping[str, Feature]]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) column lists for a set of rows: the fixed features plus every extra seen."""
    numeric, categorical = list(NUMERIC_FEATURES), list(CATEGORICAL_FEATURES)
    extra_kinds: dict[str, set[str]] = {}
    for row in rows:
        for name, value in row.items():
            if name.startswith(EXTRA_PREFIX):
                kind = "num" if isinstance(value, float) else "cat"
                if not (kind == "cat" and value == MISSING):
                    extra_kinds.setdefault(name, set()).add(kind)
    for name in sorted(extra_kinds):
        # A column that is sometimes a number and sometimes text is treated as text.
        (numeric if extra_kinds[name] == {"num"} else categorical).append(name)
    return numeric, categorical


def rows_to_frame(
    rows: Sequence[Mapping[str, Feature]],
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A frame with exactly the given columns: missing numbers are NaN, missing categories ``"missing"``."""
    if numeric is None or categorical is None:
        numeric, categorical = feature_columns(rows)
    data: dict[str, list[Any]] = {}
    for name in numeric:
        data[name] = [_as_float(row.get(name)) for row in rows]
    for name in categorical:
        data[name] = [_category(row.get(name)) for row in rows]
    frame = pd.DataFrame(data, columns=[*numeric, *categorical])
    return frame.astype({name: "float64" for name in numeric} | {name: "object" for name in categorical})


def _as_float(value: Any) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)
