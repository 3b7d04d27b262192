"""What happened to a caller, read from stored facts: the churn label at the horizon, and how a call ended.

The label of a desk call (``churn_label_of``): with horizon N days, the call counts as churned when the account was
cancelled within N days after the call, or when a bill due within those N days was still unpaid N days after the
call; it counts as stayed only if the account is still active and has paid every bill due in the window. Both models
learn from this one rule (the churn model's "churned", the offer model's "stayed" = not churned), so storage only
reads the facts it needs (when an account left, its bills) and the rule lives here, next to the models.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from retention_desk.storage.snapshots import AccountSnapshot, BillItem
from retention_desk.storage.training_data import TrainingRecord

__all__ = ["LabelledExample", "churn_label_of", "ending_of", "labelled_examples"]

SAVED_WITHOUT_OFFER = "saved_without_offer"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class LabelledExample:
    """One churn training row: an account as it was at ``as_of`` and whether it left within the horizon."""

    snapshot: AccountSnapshot
    as_of: datetime
    churned: bool
    dated: bool  # False for imported labels: no call time, so no place in a time-ordered split
    call_id: int | None = None


def churn_label_of(
    left_at: datetime | None, bills: Iterable[BillItem], started_at: datetime, horizon: timedelta
) -> bool | None:
    """True (churned), False (still active and paying after the horizon), or None: already gone before the call.

    Churned: cancelled within the horizon after the call, or a bill due from the call's day to the end of the
    horizon and not paid by then (paid after the horizon's end, or never).
    """
    if left_at is not None and left_at < started_at - timedelta(days=1):
        return None
    end = started_at + horizon
    if left_at is not None and left_at <= end:
        return True
    first_day, last_day = started_at.date(), end.date()
    return any(
        bill.due_on is not None
        and first_day <= bill.due_on <= last_day
        and (bill.paid_on is None or bill.paid_on > last_day)
        for bill in bills
    )


def labelled_examples(records: Iterable[TrainingRecord], label_horizon_days: int) -> Iterator[LabelledExample]:
    """The records that carry a label: calls by ``churn_label_of``, imported accounts by the label they came with."""
    horizon = timedelta(days=label_horizon_days)
    for record in records:
        if record.imported_label is not None:
            yield LabelledExample(record.snapshot, record.as_of, record.imported_label, False)
            continue
        label = churn_label_of(record.left_at, record.snapshot.bills, record.as_of, horizon)
        if label is not None:
            yield LabelledExample(record.snapshot, record.as_of, label, True, record.call_id)


def ending_of(disposition: str | None) -> bool | None:
    """How a call ended, as the joint estimator reads it: True = the caller stayed without taking an offer, False =
    they cancelled; None when the disposition does not say (an accepted offer, a callback, an escalation, open)."""
    if disposition == SAVED_WITHOUT_OFFER:
        return True
    if disposition == CANCELLED:
        return False
    return None
