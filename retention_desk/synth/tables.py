"""Turn the generator's arrays into table rows (column arrays): ids, dates, UTC datetimes, names and JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from retention_desk.domain.catalog import OfferSpec, total_cost
from retention_desk.synth import names
from retention_desk.synth.events import SUMMARIES
from retention_desk.synth.ground_truth import UNSAVABLE_NOTES
from retention_desk.synth.history import NEVER, Columns

_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


class _Clock:
    """Day offsets (and seconds) from ``as_of`` to numpy dates and UTC datetimes."""

    def __init__(self, as_of: date) -> None:
        self.day0 = np.datetime64(as_of, "D")

    def date(self, day: np.ndarray) -> np.ndarray:
        return self.day0 + np.asarray(day).astype("timedelta64[D]")

    def at(self, day: np.ndarray, second: np.ndarray | int = 0) -> np.ndarray:
        seconds = np.asarray(day, dtype=np.int64) * 86400 + np.asarray(second, dtype=np.int64)
        return self.day0.astype("datetime64[s]") + seconds.astype("timedelta64[s]")

    def date_or_null(self, day: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.where(keep, self.date(np.where(keep, day, 0)), np.datetime64("NaT"))

    def at_or_null(self, day: np.ndarray, second: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.where(keep, self.at(np.where(keep, day, 0), second), np.datetime64("NaT"))


def to_tables(
    acc: Columns,
    services: Columns,
    tickets: Columns,
    grid: Columns,
    calls: Columns,
    history: Columns,
    as_of: date,
    seed: int,
) -> dict[str, Columns]:
    """Every world table as column arrays, ids from 1 in a fixed order."""
    clock = _Clock(as_of)
    return {
        "accounts": _accounts(acc, clock),
        "account_services": _services(acc, services, clock),
        "bills": _bills(acc, grid, calls, clock),
        "tickets": _tickets(acc, tickets, clock),
        **_calls(acc, calls, history, clock, seed),
    }


def _accounts(acc: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    n = acc["n"]
    ids = acc["id"]
    first, last = acc["first_name"], acc["last_name"]
    place = [names.REGIONS[r][3][p] for r, p in zip(acc["region_idx"], acc["place_idx"], strict=True)]
    domains = names.EMAIL_DOMAINS
    email = [
        f"{f.translate(_ASCII)}.{la.translate(_ASCII)}{i % 97}@{domains[d]}".lower()
        for f, la, i, d in zip(first, last, ids, acc["email_domain_idx"], strict=True)
    ]
    digits = [str(d) for d in acc["phone_digits"]]
    left = acc["leave_day"] < 0
    since = clock.date(acc["since_day"])
    return {
        "id": ids,
        "account_no": [f"{10_000_000 + i}" for i in ids],
        "first_name": first,
        "last_name": last,
        "name_search": [f"{f} {la}".lower() for f, la in zip(first, last, strict=True)],
        "surname_search": [la.lower() for la in last],
        "email": email,
        "email_normalised": email,
        "phone": [f"{d[:3]} {d[3:5]} {d[5:]}" for d in digits],
        "phone_normalised": [f"+47{d}" for d in digits],
        "address": [f"{names.STREETS[s]} {h}" for s, h in zip(acc["street_idx"], acc["house_no"], strict=True)],
        "postcode": [f"{pl[0]}{t:02d}" for pl, t in zip(place, acc["postcode_tail"], strict=True)],
        "city": [pl[1] for pl in place],
        "region": [names.REGIONS[r][0] for r in acc["region_idx"]],
        "birth_year": acc["birth_year"],
        "segment": acc["segment"],
        "plan_code": acc["plan_code"],
        "contract_type": acc["contract_type"],
        "contract_end": clock.date_or_null(acc["contract_end_day"], acc["contract_type"] != "month_to_month"),
        "customer_since": since,
        "monthly_charge": acc["monthly_charge"],
        "currency": np.full(n, "NOK", dtype=object),
        "payment_method": acc["payment_method"],
        "status": np.where(left, "cancelled", "active").astype(object),
        "status_changed_at": clock.at_or_null(acc["leave_day"], 10 * 3600, left),
        "churn_label": np.full(n, None, dtype=object),
        "extra": [
            {"tv_hours_per_week": float(t), "data_gb_per_month": float(g)}
            for t, g in zip(acc["tv_hours_per_week"], acc["data_gb_per_month"], strict=True)
        ],
        "source": np.full(n, "synthetic", dtype=object),
        "created_at": since.astype("datetime64[s]"),
        "updated_at": clock.at(np.where(left, acc["leave_day"], -1), 10 * 3600),
    }


def _services(acc: dict[str, Any], services: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    leave = acc["leave_day"][services["idx"]]
    return {
        "id": np.arange(1, len(services["idx"]) + 1),
        "account_id": acc["id"][services["idx"]],
        "kind": services["kind"],
        "code": services["code"],
        "name": services["name"],
        "monthly_price": services["price_now"],
        "started_on": clock.date(services["started_day"]),
        "ended_on": clock.date_or_null(leave, leave < 0),
    }


def _bills(acc: dict[str, Any], grid: dict[str, Any], calls: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    keep = grid["period_day"] <= acc["leave_day"][grid["idx"]]
    g = {key: values[keep] for key, values in grid.items()}
    amount = g["amount"] * _discount_factor(acc, g, calls)
    paid = g["paid_day"] < 0
    return {
        "id": np.arange(1, len(g["idx"]) + 1),
        "account_id": acc["id"][g["idx"]],
        "period_start": clock.date(g["period_day"]),
        "amount": np.round(amount, 2),
        "due_on": clock.date(g["due_day"]),
        "paid_on": clock.date_or_null(g["paid_day"], paid),
    }


def _discount_factor(acc: dict[str, Any], g: dict[str, Any], calls: dict[str, Any]) -> np.ndarray:
    """Bills after an accepted percent discount are lower for the discount's months."""
    factor = np.ones(acc["n"])
    start = np.full(acc["n"], NEVER, dtype=np.int64)
    end = np.full(acc["n"], NEVER, dtype=np.int64)
    for i in np.flatnonzero(calls["accepted_kind"] == "percent_discount"):
        offer = calls["offers"][calls["accepted_offer"][i]]
        a = calls["idx"][i]
        factor[a] = 1 - float(offer["params"].get("percent", 0)) / 100
        start[a] = calls["day"][i]
        end[a] = calls["day"][i] + int(30.44 * (offer.get("duration_months") or 1))
    on = (g["period_day"] > start[g["idx"]]) & (g["period_day"] <= end[g["idx"]])
    return np.where(on, factor[g["idx"]], 1.0)


def _tickets(acc: dict[str, Any], tickets: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    keep = tickets["day"] <= acc["leave_day"][tickets["idx"]]
    t = {key: values[keep] for key, values in tickets.items()}
    kind = t["kind"]
    hours = np.where(np.isnan(t["hours"]), 48.0, t["hours"])
    close_second = t["second"] + (hours * 3600).astype(np.int64)
    closed = t["day"] * 86400 + close_second < 0
    return {
        "id": np.arange(1, len(kind) + 1),
        "account_id": acc["id"][t["idx"]],
        "kind": kind,
        "opened_at": clock.at(t["day"], t["second"]),
        "closed_at": clock.at_or_null(t["day"], close_second, closed),
        "duration_hours": np.where(kind == "outage", t["hours"], np.nan),
        "summary": np.asarray([SUMMARIES[k] for k in kind], dtype=object),
    }


def _calls(acc: Columns, calls: Columns, history: Columns, clock: _Clock, seed: int) -> dict[str, Columns]:
    offers = calls["offers"]
    m = len(calls["idx"])
    call_ids = np.arange(1, m + 1)
    started = clock.at(calls["day"], calls["second"])
    codes = np.asarray([o["code"] for o in offers], dtype=object)
    ranked = [_ranked_list(calls, i, codes) for i in range(m)]
    decided = started + (240 + (calls["second"] % 660)).astype("timedelta64[s]")
    notes = [UNSAVABLE_NOTES.get(r, "") if u else "" for r, u in zip(calls["reason"], calls["unsavable"], strict=True)]
    table = {
        "id": call_ids,
        "idempotency_key": [f"synthetic-{seed}-{i}" for i in call_ids],
        "account_id": acc["id"][calls["idx"]],
        "agent_id": calls["agent_id"],
        "started_at": started,
        "cancel_requested_at": started + np.timedelta64(45, "s"),
        "cancel_reason": calls["reason"],
        "risk_score": np.full(m, np.nan),
        "risk_band": np.full(m, None, dtype=object),
        "risk_model_version": np.full(m, None, dtype=object),
        "reasons": [[] for _ in range(m)],
        "ranked": ranked,
        "decision_mode": np.full(m, "explore", dtype=object),
        "disposition": calls["disposition"],
        "disposition_at": decided,
        "offer_code": np.where(calls["accepted_offer"] >= 0, codes[np.maximum(calls["accepted_offer"], 0)], None),
        "notes": notes,
        "source": np.full(m, "synthetic", dtype=object),
        "ended_at": decided + np.timedelta64(30, "s"),
    }
    call_offers = _call_offers(calls, call_ids, started, codes)
    return {"calls": table, "call_offers": call_offers, "offer_history": _offer_history(acc, calls, history, clock)}


def _ranked_list(calls: Columns, i: int, codes: np.ndarray) -> list[dict[str, Any]]:
    """A historical call's decision list in the desk's format: what came first (rank 1) with its propensity, then
    the other offers shown, "no offer", and the eligible offers not shown. The old process had no model, hence
    no predictions or values."""
    shown = [int(o) for o in calls["shown"][i, : calls["k"][i]]]
    unshown = [int(o) for o in np.flatnonzero(calls["eligible"][i]) if int(o) not in shown]
    first, none = float(calls["first_propensity"][i]), float(calls["none_propensity"][i])
    order: list[int | None] = [*shown, None, *unshown] if shown else [None, *unshown]
    return [
        {
            "offer_code": None if o is None else codes[o],
            "rank": rank,
            "propensity": round(none if o is None else first, 9),
            "p_stay": None,
            "p_accept": None,
            "expected_cost": None,
            "expected_value": None,
            "needs_approval": False,
        }
        for rank, o in enumerate(order, start=1)
    ]


def _call_offers(calls: Columns, call_ids: np.ndarray, started: np.ndarray, codes: np.ndarray) -> Columns:
    row, rank = np.nonzero(calls["presented"])
    presented = started[row] + (90 + 60 * rank).astype("timedelta64[s]")
    accepted = calls["accepted_rank"][row] == rank
    return {
        "id": np.arange(1, len(row) + 1),
        "call_id": call_ids[row],
        "offer_code": codes[calls["shown"][row, rank]],
        "rank": rank + 1,
        "propensity": calls["propensity"][row],
        "p_stay": np.full(len(row), np.nan),
        "expected_value": np.full(len(row), np.nan),
        "presented_at": presented,
        "response": np.where(accepted, "accepted", "declined").astype(object),
        "responded_at": presented + np.timedelta64(30, "s"),
    }


def _offer_history(acc: Columns, calls: Columns, history: Columns, clock: _Clock) -> Columns:
    offers = calls["offers"]
    taken = np.flatnonzero(calls["accepted_offer"] >= 0)
    offer_idx = np.concatenate([history["offer"], calls["accepted_offer"][taken]])
    idx = np.concatenate([history["idx"], calls["idx"][taken]])
    day = np.concatenate([history["day"], calls["day"][taken]])
    second = np.concatenate([history["second"], calls["second"][taken] + 90 + 60 * calls["accepted_rank"][taken]])
    accepted = np.concatenate([history["accepted"], np.ones(len(taken), dtype=bool)])
    call_id = np.concatenate([np.full(len(history["idx"]), None, dtype=object), (taken + 1).astype(object)])
    months = np.array([o.get("duration_months") or 0 for o in offers])[offer_idx]
    cost = np.array([float(total_cost(OfferSpec(**o))) for o in offers])[offer_idx]
    order = np.lexsort((second, day))
    return {
        "id": np.arange(1, len(idx) + 1),
        "account_id": acc["id"][idx][order],
        "offer_code": np.asarray([o["code"] for o in offers], dtype=object)[offer_idx][order],
        "offer_kind": np.asarray([o["kind"] for o in offers], dtype=object)[offer_idx][order],
        "offered_at": clock.at(day, second)[order],
        "response": np.where(accepted, "accepted", "declined").astype(object)[order],
        "ends_on": clock.date_or_null(day + (months * 30.44).astype(int), accepted & (months > 0))[order],
        "cost": np.where(accepted, cost, 0.0)[order],
        "call_id": call_id[order],
    }
