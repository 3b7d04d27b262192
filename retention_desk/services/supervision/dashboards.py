"""Supervisor dashboards: save rates, durable saves, cost and revenue per group, and the hold-out's true effect.

A call is *saved* when its disposition is saved with an offer, saved without one, or downgraded. It is *durably*
saved at N days when, in addition, the account was not cancelled within N days of the call and no bill due in
those days went unpaid (the honest-label rule the churn model trains on). Calls younger than N days are not yet
known and are left out of that rate. Only finished calls (with a disposition) count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from retention_desk.domain.clock import utcnow
from retention_desk.domain.i18n import _
from retention_desk.storage import catalog, users
from retention_desk.storage import dashboards as q

GROUPS = ("week", "offer", "reason", "agent", "band")
HORIZONS = q.HORIZONS
DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
Z_95 = 1.959964  # two-sided 95% quantile of the standard normal


class DashboardError(ValueError):
    """A dashboard setting cannot be right; the message names it."""


@dataclass(frozen=True)
class DashboardFilter:
    """The supervisor's choice; dates are inclusive UTC days (None: the last 90 days of data)."""

    date_from: date | None = None
    date_to: date | None = None
    group: str = "week"
    horizon: int = 90

    def checked(self) -> DashboardFilter:
        """The same filter, or DashboardError naming the first value that cannot be right."""
        if self.group not in GROUPS:
            raise DashboardError(_("The dashboard cannot be grouped by %(group)s.", group=repr(self.group)))
        if self.horizon not in HORIZONS:
            raise DashboardError(
                _("The durable-save horizon must be 30, 60 or 90 days, not %(days)s.", days=self.horizon)
            )
        if self.date_from and self.date_to:
            if self.date_to < self.date_from:
                raise DashboardError(_("The end date is before the start date."))
            if (self.date_to - self.date_from).days > MAX_DAYS:
                raise DashboardError(_("Choose a date range of at most three years."))
        return self


@dataclass(frozen=True)
class GroupFigures:
    """One group's figures; a rate is None when nothing is there to divide by."""

    key: str | None
    label: str
    calls: int
    saves: int
    save_rate: float | None
    known: dict[int, int]
    durable: dict[int, int]
    durable_rate: dict[int, float | None]
    accepted: int
    cost: Decimal
    cost_per_save: Decimal | None
    revenue_retained: Decimal
    followed: int
    follow_base: int
    follow_rate: float | None
    leaked: int
    leakage_rate: float | None  # leaked / accepted


@dataclass(frozen=True)
class HoldoutComparison:
    """Durable save rate of offered (exploit) calls minus the no-offer hold-out's, with a 95% interval
    (normal approximation for the difference of two independent proportions, clipped to [-1, 1])."""

    horizon: int
    offered_known: int
    offered_durable: int
    holdout_known: int
    holdout_durable: int
    offered_rate: float | None
    holdout_rate: float | None
    difference: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Dashboard:
    date_from: date
    date_to: date
    group: str
    horizon: int
    as_of: datetime
    total: GroupFigures
    rows: list[GroupFigures]  # by the chosen group
    weekly: list[GroupFigures]  # by week, for the trend chart
    holdout: HoldoutComparison


def supervisor_dashboard(*, session: Session, filters: DashboardFilter, as_of: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard for the filter's date range, aggregated in SQL."""
    filters = filters.checked()
    as_of = as_of or utcnow()
    date_from, date_to = _date_range(session, filters, as_of)
    query = q.DashboardQuery(
        since=_day_start(date_from), until=_day_start(date_to + timedelta(days=1)), as_of=as_of, horizon=filters.horizon
    )
    labels = _labels(session, filters.group)
    sums = q.group_sums(session, query, (filters.group, "week", "all", "mode"))
    rows = [_figures(s, filters.group, labels, filters.horizon) for s in sums[filters.group]]
    weekly = rows if filters.group == "week" else [_figures(s, "week", {}, filters.horizon) for s in sums["week"]]
    total = _figures(sums["all"][0], "all", {}, filters.horizon) if sums["all"] else _empty()
    modes = {s.key: s for s in sums["mode"]}
    return Dashboard(
        date_from=date_from,
        date_to=date_to,
        group=filters.group,
        horizon=filters.horizon,
        as_of=as_of,
        total=total,
        rows=rows,
        weekly=weekly,
        holdout=holdout_comparison(modes.get("exploit"), modes.get("holdout"), filters.horizon),
    )


def holdout_comparison(offered: q.GroupSums | None, holdout: q.GroupSums | None, horizon: int) -> HoldoutComparison:
    """The difference in durable save rate, offered minus hold-out, and its 95% normal-approximation interval."""
    n1 = offered.known[horizon] if offered else 0
    x1 = offered.durable[horizon] if offered else 0
    n2 = holdout.known[horizon] if holdout else 0
    x2 = holdout.durable[horizon] if holdout else 0
    p1, p2 = _rate(x1, n1), _rate(x2, n2)
    difference = low = high = None
    if p1 is not None and p2 is not None:
        difference = p1 - p2
        margin = Z_95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        low, high = max(difference - margin, -1.0), min(difference + margin, 1.0)  # a difference lies in [-1, 1]
    return HoldoutComparison(horizon, n1, x1, n2, x2, p1, p2, difference, low, high)


def _date_range(session: Session, filters: DashboardFilter, as_of: datetime) -> tuple[date, date]:
    """The filter's days; a missing end is the newest call's day, a missing start 90 days before the end."""
    date_to = filters.date_to or q.latest_call_day(session) or as_of.date()
    date_from = filters.date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_to < date_from:
        raise DashboardError(_("The end date is before the start date."))
    return date_from, date_to


def _figures(s: q.GroupSums, group: str, labels: dict[Any, str], horizon: int) -> GroupFigures:
    key = _key_text(s.key, group)
    return GroupFigures(
        key=key,
        label=labels.get(s.key, key or "") if group != "week" else (key or ""),
        calls=s.calls,
        saves=s.saves,
        save_rate=_rate(s.saves, s.calls),
        known=s.known,
        durable=s.durable,
        durable_rate={days: _rate(s.durable[days], s.known[days]) for days in HORIZONS},
        accepted=s.accepted,
        cost=s.cost,
        cost_per_save=(s.cost / s.saves).quantize(Decimal("0.01")) if s.saves else None,
        revenue_retained=s.revenue,
        followed=s.followed,
        follow_base=s.follow_base,
        follow_rate=_rate(s.followed, s.follow_base),
        leaked=s.leaked,
        leakage_rate=_rate(s.leaked, s.accepted),
    )


def _key_text(key: Any, group: str) -> str | None:
    if key is None:
        return None
    if group == "week":  # a date on PostgreSQL, text on SQLite
        return str(key)[:10]
    return str(key)


def _labels(session: Session, group: str) -> dict[Any, str]:
    """Readable names for the group's keys, read from the small lookup tables."""
    if group == "offer":
        return {code: f"{code} · {name}" for code, name in catalog.offer_codes(session)}
    if group == "reason":
        return dict(catalog.cancel_reasons(session))
    if group == "agent":
        return dict(users.agents_and_teams(session)[0])
    return {}


def _empty() -> GroupFigures:
    zero = dict.fromkeys(HORIZONS, 0)
    return _figures(q.GroupSums("all", 0, 0, zero, zero, 0, 0, Decimal(0), Decimal(0), 0, 0), "all", {}, 90)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
