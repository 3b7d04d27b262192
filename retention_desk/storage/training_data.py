"""Queries that read what the models learn from: accounts as they were at each desk call, and what happened later.

A training run reads every call old enough to have an outcome (``plan_training_set``'s cutoff: the label horizon
before the newest call or status change in the database), each with its account's snapshot and when the account
left, if it has; and every account that an import brought with a churn label. Storage reads these facts only: the
label rule is the models' (``ml.labels``).

Related rows (services, bills, tickets, offer history) are read in bulk for a chunk of accounts at a time,
never one query per account, so a training set of tens of thousands of calls costs a few dozen queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.domain.clock import utcnow
from retention_desk.storage.snapshots import AccountSnapshot, BillItem, OfferItem, ServiceItem, TicketItem
from retention_desk.storage.tables import Account, AccountService, Bill, Call, OfferHistory, Ticket

CHUNK = 1000
CANCELLED = "cancelled"


@dataclass(frozen=True)
class TrainingRecord:
    """An account as it was at ``as_of`` (a desk call's start, or the read time for an imported label), with the
    stored facts its label rests on: when a cancelled account left, or the label an import brought."""

    snapshot: AccountSnapshot
    as_of: datetime
    left_at: datetime | None = None
    imported_label: bool | None = None  # None for a desk call
    call_id: int | None = None


@dataclass(frozen=True)
class TrainingPlan:
    """Which rows a training run will read: calls started on or before ``cutoff``, plus imported labels."""

    newest_data_at: datetime | None
    cutoff: datetime | None
    label_horizon_days: int
    n_calls: int
    n_imported: int

    @property
    def total(self) -> int:
        return self.n_calls + self.n_imported


def plan_training_set(session: Session, *, label_horizon_days: int = 90) -> TrainingPlan:
    """Count the rows the training set will hold; calls need ``label_horizon_days`` of later data."""
    newest_call = session.execute(select(func.max(Call.started_at))).scalar_one_or_none()
    newest_change = session.execute(select(func.max(Account.status_changed_at))).scalar_one_or_none()
    newest = max((t for t in (_aware(newest_call), _aware(newest_change)) if t is not None), default=None)
    cutoff = newest - timedelta(days=label_horizon_days) if newest else None
    n_calls = 0
    if cutoff is not None:
        n_calls = session.execute(select(func.count()).where(Call.started_at <= cutoff)).scalar_one()
    n_imported = session.execute(select(func.count()).where(Account.churn_label.is_not(None))).scalar_one()
    return TrainingPlan(newest, cutoff, label_horizon_days, int(n_calls), int(n_imported))


def iter_training_records(
    session: Session, plan: TrainingPlan, *, now: datetime | None = None
) -> Iterator[TrainingRecord]:
    """Every record of the plan: calls up to its cutoff first (ordered by account), then imported labels."""
    if plan.cutoff is not None:
        calls = session.execute(
            select(Call.id, Call.account_id, Call.started_at)
            .where(Call.started_at <= plan.cutoff)
            .order_by(Call.account_id, Call.started_at)
        ).all()
        for chunk in _chunks(calls, CHUNK):
            snapshots, leaving = _load_chunk(session, {row.account_id for row in chunk})
            for call_id, account_id, started_at in chunk:
                yield TrainingRecord(snapshots[account_id], _aware(started_at), leaving.get(account_id), None, call_id)
    as_of = now or utcnow()
    imported = session.execute(
        select(Account.id, Account.churn_label).where(Account.churn_label.is_not(None)).order_by(Account.id)
    ).all()
    for chunk in _chunks(imported, CHUNK):
        snapshots, _ = _load_chunk(session, {row.id for row in chunk})
        for account_id, churn_label in chunk:
            yield TrainingRecord(snapshots[account_id], as_of, imported_label=bool(churn_label))


def load_account_snapshot(session: Session, account_id: int) -> AccountSnapshot | None:
    """One account with its history, as the desk sees it now; None when there is no such account."""
    return load_account_snapshots(session, [account_id]).get(account_id)


def load_account_snapshots(session: Session, account_ids: Iterable[int]) -> dict[int, AccountSnapshot]:
    """Several accounts with their history, read in bulk."""
    out: dict[int, AccountSnapshot] = {}
    for chunk in _chunks(sorted(set(account_ids)), CHUNK):
        out.update(_load_chunk(session, set(chunk))[0])
    return out


def _load_chunk(session: Session, ids: set[int]) -> tuple[dict[int, AccountSnapshot], dict[int, datetime]]:
    """Snapshots for these accounts, and when each cancelled account left."""
    id_list = sorted(ids)
    snapshots: dict[int, AccountSnapshot] = {}
    leaving: dict[int, datetime] = {}
    for acc in session.execute(select(*_ACCOUNT_COLUMNS).where(Account.id.in_(id_list))):
        snapshots[acc.id] = AccountSnapshot(
            account_id=acc.id,
            contract_type=acc.contract_type,
            contract_end=acc.contract_end,
            customer_since=acc.customer_since,
            monthly_charge=float(acc.monthly_charge or 0),
            payment_method=acc.payment_method,
            segment=acc.segment,
            region=acc.region,
            plan_code=acc.plan_code,
            birth_year=acc.birth_year,
            extra=dict(acc.extra or {}),
            erased_at=acc.erased_at,
        )
        if acc.status == CANCELLED and acc.status_changed_at is not None:
            leaving[acc.id] = _aware(acc.status_changed_at)
    _attach_related(session, id_list, snapshots)
    return snapshots, leaving


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.contract_type,
    Account.contract_end,
    Account.customer_since,
    Account.monthly_charge,
    Account.payment_method,
    Account.segment,
    Account.region,
    Account.plan_code,
    Account.birth_year,
    Account.extra,
    Account.status,
    Account.status_changed_at,
    Account.erased_at,
)


def _attach_related(session: Session, ids: list[int], snapshots: dict[int, AccountSnapshot]) -> None:
    services = select(
        AccountService.account_id,
        AccountService.kind,
        AccountService.code,
        AccountService.monthly_price,
        AccountService.started_on,
        AccountService.ended_on,
    ).where(AccountService.account_id.in_(ids))
    for account_id, kind, code, price, started, ended in session.execute(services):
        snapshots[account_id].services.append(ServiceItem(kind, code, float(price or 0), started, ended))
    bills = select(Bill.account_id, Bill.period_start, Bill.amount, Bill.due_on, Bill.paid_on).where(
        Bill.account_id.in_(ids)
    )
    for account_id, period_start, amount, due, paid in session.execute(bills):
        snapshots[account_id].bills.append(BillItem(period_start, float(amount or 0), due, paid))
    tickets = select(Ticket.account_id, Ticket.kind, Ticket.opened_at, Ticket.duration_hours).where(
        Ticket.account_id.in_(ids)
    )
    for account_id, kind, opened_at, hours in session.execute(tickets):
        snapshots[account_id].tickets.append(TicketItem(kind, _aware(opened_at), hours))
    offers = select(
        OfferHistory.account_id,
        OfferHistory.offer_code,
        OfferHistory.offer_kind,
        OfferHistory.offered_at,
        OfferHistory.response,
    ).where(OfferHistory.account_id.in_(ids))
    for account_id, code, kind, offered_at, response in session.execute(offers):
        snapshots[account_id].offers.append(OfferItem(code, kind, _aware(offered_at), response))


def _aware(value: datetime | None) -> datetime | None:
    """UTC columns come back aware through the ORM type; aggregates on SQLite may not."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
