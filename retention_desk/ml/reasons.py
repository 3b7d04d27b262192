"""Reasons behind a churn score that are faithful to the model, as codes the desk turns into agent words.

For an account's feature row x and each feature i whose value differs from its reference (the training median
for a number, the most common category for text), the row is rescored with feature i set to the reference. The
difference p(x) - p(x with i at reference) is what that feature adds to this caller's score: positive raised
it, negative lowered it. All variants go through the scorer in one call. Changing the top "raised" feature to
its reference therefore lowers the score by exactly the stated amount, which the tests check.

Reasons are returned as ``(code, params)``; the web layer owns the words (and their translations).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from retention_desk.domain.reasons import Reason
from retention_desk.ml.features import EXTRA_PREFIX, MISSING, Feature

TOP = 3
MIN_DELTA = 0.005  # half a percentage point: smaller moves are not worth an agent's attention


@dataclass(frozen=True)
class Explanation:
    probability: float
    raised: list[Reason]
    lowered: list[Reason]


def reference_values(
    rows: Sequence[Mapping[str, Feature]], numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, Feature]:
    """Median of each number (ignoring missing) and most common category: what "a typical account" has."""
    refs: dict[str, Feature] = {}
    for name in numeric:
        values = [float(v) for r in rows if isinstance(v := r.get(name), int | float) and not math.isnan(v)]
        if values:
            refs[name] = float(statistics.median(values))
    for name in categorical:
        counts = Counter(_text(r.get(name)) for r in rows)
        if counts:
            refs[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return refs


def variant_rows(row: Mapping[str, Feature], references: Mapping[str, Feature]) -> tuple[list[str], list[dict]]:
    """(features, rows): one copy of ``row`` per feature that differs from its reference, set to the reference."""
    names, rows = [], []
    for name, ref in references.items():
        if _same(row.get(name), ref):
            continue
        names.append(name)
        rows.append({**row, name: ref})
    return names, rows


def explain(
    row: Mapping[str, Feature],
    references: Mapping[str, Feature],
    score: Callable[[list[Mapping[str, Feature]]], np.ndarray],
    *,
    top: int = TOP,
    bill_since: Mapping[str, date] | None = None,
) -> Explanation:
    """The score of ``row`` with the ``top`` features that raised it and lowered it most (one scorer call)."""
    names, variants = variant_rows(row, references)
    p = score([row, *variants])
    return explanation_from(row, references, names, p, top=top, bill_since=bill_since)


def explanation_from(
    row: Mapping[str, Feature],
    references: Mapping[str, Feature],
    names: Sequence[str],
    p: np.ndarray,
    *,
    top: int = TOP,
    bill_since: Mapping[str, date] | None = None,
) -> Explanation:
    """Reasons from scores already computed: ``p[0]`` for the row, ``p[1:]`` for its variants, in order."""
    base = float(p[0])
    deltas = [(name, base - float(q)) for name, q in zip(names, p[1 : 1 + len(names)], strict=True)]
    deltas = [(n, d) for n, d in deltas if abs(d) >= MIN_DELTA]
    up = sorted((x for x in deltas if x[1] > 0), key=lambda x: -x[1])[:top]
    down = sorted((x for x in deltas if x[1] < 0), key=lambda x: x[1])[:top]

    def reason(name: str, delta: float) -> Reason:
        code, params = describe(name, row.get(name), references[name], bill_since or {})
        return Reason(name, row.get(name, MISSING), references[name], delta, code, params)

    return Explanation(base, [reason(*x) for x in up], [reason(*x) for x in down])


def describe(name: str, value: Any, reference: Feature, bill_since: Mapping[str, date]) -> tuple[str, dict[str, Any]]:
    """The phrase code and its parameters for a feature's value, e.g. ("outages", {"num": 3, "days": 90})."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return _MISSING_CODES.get(name, "unknown"), {"name": _readable(name)}
    if name in _CATEGORY_CODES:
        return (_CATEGORY_CODES[name], {"value": str(value)})
    if name.startswith(EXTRA_PREFIX):
        if isinstance(value, str):
            return ("extra_text", {"name": _readable(name), "value": value})
        higher = isinstance(reference, float) and float(value) > reference
        return ("extra_high" if higher else "extra_low"), {"name": _readable(name), "value": float(value)}
    v = float(value)
    handler = _NUMBER_CODES.get(name)
    if handler is None:
        return ("number", {"name": _readable(name), "value": v})
    return handler(name, v, bill_since)


def _count(code: str, days: int | None = None) -> Callable[[str, float, Mapping[str, date]], tuple[str, dict]]:
    def handle(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
        params: dict[str, Any] = {"num": int(round(v))}
        if days:
            params["days"] = days
        return code, params

    return handle


def _tenure(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
    if v >= 24:
        return "tenure_years", {"num": int(v // 12)}
    return "tenure_months", {"num": max(int(v), 0)}


def _contract_end(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
    if v < 0:
        return "contract_ended", {"num": int(round(-v))}
    if v < 1:
        return "contract_ends_this_month", {}
    return "contract_ends_in", {"num": int(round(v))}


def _bill_change(name: str, v: float, bills: Mapping[str, date]) -> tuple[str, dict]:
    percent = int(round(abs(v - 1) * 100))
    months = int(name.removeprefix("bill_change_").removesuffix("m"))
    since = bills.get(name)
    params: dict[str, Any] = {"percent": percent, "months": months, "since": since}
    if percent == 0:
        return ("bill_same_since" if since else "bill_same"), params
    up = v > 1
    if since:
        return ("bill_up_since" if up else "bill_down_since"), params
    return ("bill_up" if up else "bill_down"), params


def _months_since_rise(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
    return "bill_rose_months_ago", {"num": max(int(round(v)), 0)}


def _flag(code: str) -> Callable[[str, float, Mapping[str, date]], tuple[str, dict]]:
    def handle(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
        return (code if v >= 0.5 else f"no_{code}"), {}

    return handle


def _plain(code: str) -> Callable[[str, float, Mapping[str, date]], tuple[str, dict]]:
    def handle(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
        return code, {"value": v}

    return handle


def _days_since_offer(_name: str, v: float, _bills: Mapping[str, date]) -> tuple[str, dict]:
    return "last_offer_days", {"num": int(round(v))}


_NUMBER_CODES: dict[str, Callable[[str, float, Mapping[str, date]], tuple[str, dict]]] = {
    "tenure_months": _tenure,
    "months_to_contract_end": _contract_end,
    "monthly_charge": _plain("monthly_charge"),
    "bill_change_3m": _bill_change,
    "bill_change_12m": _bill_change,
    "months_since_bill_rise": _months_since_rise,
    "bills_unpaid": _count("bills_unpaid"),
    "bills_late_12m": _count("bills_late"),
    "n_services": _count("services"),
    "has_tv": _flag("tv"),
    "has_broadband": _flag("broadband"),
    "has_mobile": _flag("mobile"),
    "n_premium_channels": _count("premium_channels"),
    "tickets_30d": _count("tickets", 30),
    "tickets_90d": _count("tickets", 90),
    "outages_30d": _count("outages", 30),
    "outages_90d": _count("outages", 90),
    "outage_hours_90d": _plain("outage_hours"),
    "offers_before": _count("offers_before"),
    "offers_accepted_before": _count("offers_accepted"),
    "days_since_last_offer": _days_since_offer,
}
_CATEGORY_CODES = {
    "contract_type": "contract",
    "payment_method": "payment",
    "segment": "segment",
    "region": "region",
    "plan_code": "plan",
}


_MISSING_CODES = {
    "months_to_contract_end": "no_contract_end",
    "tenure_months": "tenure_unknown",
    "bill_change_3m": "no_bill_comparison",
    "bill_change_12m": "no_bill_comparison",
    "days_since_last_offer": "no_earlier_offer",
    "months_since_bill_rise": "no_bill_rise",
}


def _readable(name: str) -> str:
    """``x_total_day_minutes`` -> "total day minutes": imported column names as an agent would read them."""
    bare = name[len(EXTRA_PREFIX) :] if name.startswith(EXTRA_PREFIX) else name
    return bare.replace("_", " ").strip()


def _text(value: Any) -> str:
    if value is None:
        return MISSING
    text = str(value).strip()
    return text or MISSING


def _same(value: Any, reference: Feature) -> bool:
    if isinstance(reference, str):
        return _text(value) == reference
    if value is None or isinstance(value, str):
        return math.isnan(reference)
    return float(value) == reference or (math.isnan(float(value)) and math.isnan(reference))
