"""What happened on the accounts over the last 13 months: faults, billing and complaint tickets, regional
outages, and the monthly bill grid with late and unpaid bills."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from retention_desk.synth import names

WINDOW_DAYS = 395
TICKET_RATES = {"fault": 0.35, "billing": 0.15, "complaint": 0.10}  # per account and year
OUTAGE_EVENTS_PER_REGION_YEAR = 3.0
OUTAGE_HIT_SHARE = 0.6
BILL_MONTHS = 13
SUMMARIES = {
    "fault": "No signal on the TV box / broadband drops",
    "billing": "Question about the invoice",
    "complaint": "Unhappy with the answer from support",
    "outage": "Regional outage",
}


def outage_and_tickets(
    rng: np.random.Generator, acc: dict[str, Any], first_day: int = -WINDOW_DAYS, end_day: int = 0
) -> dict[str, Any]:
    """Tickets (kind, opened day and second, duration) on days ``first_day`` to ``end_day`` − 1, sorted by account;
    outages hit whole towns at once. The simulator asks for days after the world's date to keep it living."""
    n = acc["n"]
    parts = []
    if "bad_line" not in acc:
        acc["bad_line"] = rng.random(n) < 0.10  # a tenth of the lines are troublesome
    bad_line = acc["bad_line"]
    window = end_day - first_day
    for kind, rate in TICKET_RATES.items():
        lam = rate * window / 365 * (np.where(bad_line, 4.0, 1.0) if kind == "fault" else 1.0)
        if kind == "billing":
            lam = lam * (1 + 4 * acc["late_rate"])
        counts = rng.poisson(lam)
        idx = np.repeat(np.arange(n), counts)
        start = np.maximum(acc["since_day"][idx], first_day)
        day = rng.integers(start, end_day) if len(idx) else idx
        hours = np.round(rng.lognormal(np.log(20), 0.8, len(idx)), 1) if kind == "fault" else np.full(len(idx), np.nan)
        parts.append(_part(idx, kind, day, rng.integers(7 * 3600, 22 * 3600, len(idx)), hours))
    parts.append(_outages(rng, acc, first_day, end_day))
    tickets = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((tickets["second"], tickets["day"], tickets["idx"]))
    return {key: values[order] for key, values in tickets.items()}


def _outages(rng: np.random.Generator, acc: dict[str, Any], first_day: int, end_day: int) -> dict[str, Any]:
    n_regions = len(names.REGIONS)
    events = rng.poisson(OUTAGE_EVENTS_PER_REGION_YEAR * (end_day - first_day) / 365 * np.ones(n_regions))
    place = acc["region_idx"] * 3 + acc["place_idx"]
    idx_parts, day_parts, sec_parts, hour_parts = [], [], [], []
    for region, count in enumerate(events):
        for _ in range(count):
            town = region * 3 + int(rng.integers(0, 3))
            day, second = int(rng.integers(first_day, end_day)), int(rng.integers(0, 86400))
            hours = float(np.round(rng.lognormal(np.log(6), 1.0), 1))
            hit = np.flatnonzero((place == town) & (rng.random(len(place)) < OUTAGE_HIT_SHARE))
            hit = hit[acc["since_day"][hit] < day]
            idx_parts.append(hit)
            day_parts.append(np.full(len(hit), day))
            sec_parts.append(np.full(len(hit), second))
            hour_parts.append(np.full(len(hit), hours))
    if not idx_parts:
        empty = np.array([], dtype=int)
        return _part(empty, "outage", empty, empty, np.array([], dtype=float))
    return _part(
        np.concatenate(idx_parts),
        "outage",
        np.concatenate(day_parts),
        np.concatenate(sec_parts),
        np.concatenate(hour_parts),
    )


def _part(idx: np.ndarray, kind: str, day: np.ndarray, second: np.ndarray, hours: np.ndarray) -> dict[str, Any]:
    return {
        "idx": idx.astype(np.int64),
        "kind": np.full(len(idx), kind, dtype=object),
        "day": np.asarray(day, dtype=np.int64),
        "second": np.asarray(second, dtype=np.int64),
        "hours": np.asarray(hours, dtype=float),
    }


def bill_grid(rng: np.random.Generator, acc: dict[str, Any], as_of: date) -> dict[str, Any]:
    """Every monthly bill the account would get over 13 months if it stayed; cancellations trim it later."""
    n = acc["n"]
    month_days = np.array([(_month_start(as_of, back) - as_of).days for back in range(BILL_MONTHS - 1, -1, -1)])
    idx = np.repeat(np.arange(n), BILL_MONTHS)
    period = np.tile(month_days, n)
    month_no = np.tile(np.arange(BILL_MONTHS), n)
    keep = period >= acc["since_day"][idx] - 20  # the first bill is the month the subscriber joined
    idx, period, month_no = idx[keep], period[keep], month_no[keep]
    rise_seen = acc["rise_exposed"][idx] & (period >= acc["rise_day"])
    amount = np.where(rise_seen, acc["monthly_charge"][idx], acc["charge_before_rise"][idx])
    extras = rng.random(len(idx)) < 0.05  # pay-per-view films and the odd fee
    amount = np.round(amount + extras * rng.choice([49.0, 99.0, 149.0, 199.0], len(idx)), 2)
    due = period + 14
    late = rng.random(len(idx)) < acc["late_rate"][idx]
    paid = np.where(late, due + rng.integers(3, 45, len(idx)), due - rng.integers(0, 10, len(idx)))
    return {"idx": idx, "period_day": period, "month_no": month_no, "amount": amount, "due_day": due, "paid_day": paid}


def _month_start(as_of: date, months_back: int) -> date:
    total = as_of.year * 12 + as_of.month - 1 - months_back
    return date(total // 12, total % 12 + 1, 1)


def late_bills_before(grid: dict[str, Any], caller_idx: np.ndarray, call_day: np.ndarray, n: int) -> np.ndarray:
    """Per caller: bills due in the 365 days before the call that were paid late or not by the call."""
    day_of = np.full(n, np.iinfo(np.int32).min, dtype=np.int64)
    day_of[caller_idx] = call_day
    cday = day_of[grid["idx"]]
    due = grid["due_day"]
    counted = (due < cday) & (due >= cday - 365) & (grid["paid_day"] > due)
    return np.bincount(grid["idx"][counted], minlength=n)[caller_idx]
