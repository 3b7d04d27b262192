"""The dashboards' SQL: per-group save figures aggregated in the database, never rows summed in Python.

A common table expression turns every finished call in the date range into a row of 0/1 flags and amounts (saved,
durable at 30/60/90 days, accepted, leaked, followed the top recommendation, cost, revenue); one statement sums
them per key of every grouping the page shows. Date arithmetic differs between SQLite and PostgreSQL, so it goes
through the small ``_Dialect`` helper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Interval, and_, case, cast, exists, func, literal, not_, null, or_, select, text, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType
from sqlmodel import Session

from retention_desk.storage.tables import Account, Bill, Call, CallOffer, OfferHistory

SAVED_DISPOSITIONS = ("saved_with_offer", "saved_without_offer", "downgraded")
HORIZONS = (30, 60, 90)
# What a dashboard may be grouped by; "mode" (the decision mode) is for the hold-out comparison.
GROUPS = ("offer", "reason", "agent", "band", "week", "mode")


@dataclass(frozen=True)
class DashboardQuery:
    """Calls started in [since, until); outcomes count as known when ``as_of`` is at least N days after the call."""

    since: datetime
    until: datetime
    as_of: datetime
    horizon: int = 90  # the durable-save horizon for revenue retained


@dataclass(frozen=True)
class GroupSums:
    """Sums over one group's finished calls; ``known``/``durable`` are keyed by horizon in days."""

    key: Any
    calls: int
    saves: int
    known: dict[int, int]
    durable: dict[int, int]
    accepted: int
    leaked: int
    cost: Decimal
    revenue: Decimal
    follow_base: int
    followed: int


class _Dialect:
    """Date arithmetic on UTC timestamps, written the way each database wants it."""

    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"

    def day(self, column: Any) -> ColumnElement:
        if self.sqlite:
            return func.date(column)
        return cast(func.timezone("UTC", column), Date)

    def day_plus(self, column: Any, days: int) -> ColumnElement:
        if self.sqlite:
            return func.date(column, f"+{int(days)} days")
        return self.day(column) + int(days)

    def moment_plus(self, column: Any, days: int) -> ColumnElement:
        if self.sqlite:  # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' text, which compares in time order
            return func.datetime(column, f"+{int(days)} days")
        return column + literal(timedelta(days=int(days)), Interval())

    def week(self, column: Any) -> ColumnElement:
        """The Monday (UTC) of the call's week."""
        if self.sqlite:
            return func.strftime("%Y-%m-%d", column, "weekday 0", "-6 days")
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)


def _dialect(session: Session) -> _Dialect:
    return _Dialect(session.get_bind().dialect.name)


def _flag(condition: ColumnElement) -> ColumnElement:
    return case((condition, 1), else_=0)


def _churned_within(d: _Dialect, days: int) -> ColumnElement:
    """The honest-label rule of ``ml.labels.churn_label_of``: cancelled within the horizon after the call, or a
    bill due in it and not paid by its end."""
    end_day = d.day_plus(Call.started_at, days)
    cancelled = and_(Account.status == "cancelled", Account.status_changed_at <= d.moment_plus(Call.started_at, days))
    unpaid = exists().where(
        Bill.account_id == Call.account_id,
        Bill.due_on >= d.day(Call.started_at),
        Bill.due_on <= end_day,
        or_(Bill.paid_on.is_(None), Bill.paid_on > end_day),
    )
    return or_(cancelled, unpaid)


def _group_key(d: _Dialect, group: str, first_offer: ColumnElement) -> ColumnElement:
    return {
        "offer": first_offer,
        "reason": Call.cancel_reason,
        "agent": Call.agent_id,
        "band": Call.risk_band,
        "week": d.week(Call.started_at),
        "mode": Call.decision_mode,
    }[group]


def _per_call(session: Session, query: DashboardQuery, groups: Sequence[str]) -> Any:
    """One row per finished call in range: a key per grouping and the 0/1 flags and amounts the groupings sum.

    Every looked-up figure is a correlated sub-query on an indexed column (``call_offers.call_id``,
    ``offer_history.call_id``, ``bills (account_id, period_start)``), and the ranked list's JSON is read here once,
    so the rows the groupings aggregate are narrow.
    """
    d = _dialect(session)
    first_offer = (
        select(CallOffer.offer_code)
        .where(CallOffer.call_id == Call.id)
        .order_by(CallOffer.presented_at, CallOffer.id)
        .limit(1)
        .correlate(Call)
        .scalar_subquery()
    )
    accepted_value = (
        select(CallOffer.expected_value)
        .where(CallOffer.call_id == Call.id, CallOffer.response == "accepted")
        .limit(1)
        .correlate(Call)
        .scalar_subquery()
    )
    cost = (
        select(func.sum(OfferHistory.cost))
        .where(OfferHistory.call_id == Call.id, OfferHistory.response == "accepted")
        .correlate(Call)
        .scalar_subquery()
    )
    saved = Call.disposition.in_(SAVED_DISPOSITIONS)
    top_offer = Call.ranked[(0, "offer_code")].as_string()
    has_list = Call.ranked[(0, "rank")].as_string().is_not(None)
    follow_base = and_(Call.decision_mode != "holdout", has_list)
    followed = and_(follow_base, or_(and_(top_offer.is_(None), first_offer.is_(None)), first_offer == top_offer))
    columns: list[Any] = [_group_key(d, group, first_offer).label(f"key_{group}") for group in groups]
    columns += [
        _flag(saved).label("saved"),
        _flag(and_(Call.offer_code.is_not(None), accepted_value <= 0)).label("leaked"),
        _flag(Call.offer_code.is_not(None)).label("accepted"),
        func.coalesce(cost, 0).label("cost"),
        _flag(follow_base).label("follow_base"),
        _flag(followed).label("followed"),
    ]
    for days in HORIZONS:
        known = Call.started_at <= query.as_of - timedelta(days=days)
        durable = and_(saved, known, not_(_churned_within(d, days)))
        columns += [_flag(known).label(f"known_{days}"), _flag(durable).label(f"durable_{days}")]
        if days == query.horizon:
            columns.append(case((durable, Account.monthly_charge), else_=0).label("revenue"))
    return (
        select(*columns)
        .select_from(Call)
        .join(Account, Account.id == Call.account_id)
        .where(Call.started_at >= query.since, Call.started_at < query.until, Call.disposition.is_not(None))
        .cte("per_call")
    )


def group_sums(session: Session, query: DashboardQuery, groups: Sequence[str]) -> dict[str, list[GroupSums]]:
    """The summed figures per key of each grouping (``GROUPS``, or "all" for one total row), keys in order.

    One statement for all groupings: the per-call rows are computed once (a common table expression each grouping
    reads; PostgreSQL materialises one that is read more than once) and each grouping is a ``GROUP BY`` over them,
    joined with ``UNION ALL``. Each grouping's key keeps its own column, so keys keep their types.
    """
    unknown = [g for g in groups if g not in (*GROUPS, "all")]
    if unknown or not groups:
        raise ValueError(f"cannot group by {unknown or groups!r}")
    if query.horizon not in HORIZONS:
        raise ValueError(f"the horizon must be one of {HORIZONS}")
    keyed = [g for g in dict.fromkeys(groups) if g != "all"]
    per_call = _per_call(session, query, keyed)
    c = per_call.c
    sums = [
        func.count().label("calls"),
        func.coalesce(func.sum(c.saved), 0),
        func.coalesce(func.sum(c.accepted), 0),
        func.coalesce(func.sum(c.leaked), 0),
        func.coalesce(func.sum(c.cost), 0),
        func.coalesce(func.sum(c.revenue), 0),
        func.coalesce(func.sum(c.follow_base), 0),
        func.coalesce(func.sum(c.followed), 0),
    ]
    for days in HORIZONS:
        sums += [func.coalesce(func.sum(c[f"known_{days}"]), 0), func.coalesce(func.sum(c[f"durable_{days}"]), 0)]
    parts = []
    for group in dict.fromkeys(groups):
        keys = [c[f"key_{g}"] if g == group else _null_like(c[f"key_{g}"]) for g in keyed]
        part = select(literal(group).label("grouping"), *keys, *sums).select_from(per_call)
        parts.append(part.group_by(c[f"key_{group}"]) if group != "all" else part)
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    if not _dialect(session).sqlite:
        # Compiling these expressions costs PostgreSQL more than it saves on a few hundred thousand rows
        # (about a second of three on the benchmark's 90 days of a million calls; docs/supervisor.md).
        session.execute(text("SET LOCAL jit = off"))
    out: dict[str, list[GroupSums]] = {g: [] for g in groups}
    for row in session.execute(statement).all():
        grouping, *rest = row
        keys, figures = rest[: len(keyed)], rest[len(keyed) :]
        key = keys[keyed.index(grouping)] if grouping != "all" else "all"
        out[grouping].append(_sums(key, figures))
    for sums_of_group in out.values():
        sums_of_group.sort(key=lambda s: (s.key is None, s.key))
    return out


def _null_like(column: Any) -> ColumnElement:
    """NULL of the column's type, where the type is known (a UNION's branches must agree on PostgreSQL)."""
    return null() if isinstance(column.type, NullType) else cast(null(), column.type)


def _sums(key: Any, figures: Sequence[Any]) -> GroupSums:
    calls, saves, accepted, leaked, cost, revenue, base, followed, *by_horizon = figures
    return GroupSums(
        key=key,
        calls=int(calls),
        saves=int(saves),
        known={days: int(by_horizon[2 * i]) for i, days in enumerate(HORIZONS)},
        durable={days: int(by_horizon[2 * i + 1]) for i, days in enumerate(HORIZONS)},
        accepted=int(accepted),
        leaked=int(leaked),
        cost=Decimal(str(cost)),
        revenue=Decimal(str(revenue)),
        follow_base=int(base),
        followed=int(followed),
    )


def latest_call_day(session: Session) -> date | None:
    """The UTC day of the newest call (``ix_calls_started_at``), where the default date range ends."""
    newest = session.execute(select(func.max(Call.started_at))).scalar_one_or_none()
    if newest is None:
        return None
    if isinstance(newest, str):  # SQLite's max() of the stored text skips the column type
        newest = datetime.fromisoformat(newest)
    return newest.date()
