"""An account's stored facts as plain values, as storage loads them and the feature module reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class ServiceItem:
    kind: str  # tv | broadband | mobile | premium
    code: str = ""
    monthly_price: float = 0.0
    started_on: date | None = None
    ended_on: date | None = None


@dataclass(frozen=True)
class BillItem:
    period_start: date
    amount: float
    due_on: date | None = None
    paid_on: date | None = None


@dataclass(frozen=True)
class TicketItem:
    kind: str
    opened_at: datetime
    duration_hours: float | None = None


@dataclass(frozen=True)
class OfferItem:
    offer_code: str
    offer_kind: str
    offered_at: datetime
    response: str  # accepted | declined


@dataclass
class AccountSnapshot:
    """An account's stored facts as plain values; what the billing system knows, not what the model thinks."""

    account_id: int
    contract_type: str = "month_to_month"
    contract_end: date | None = None
    customer_since: date | None = None
    monthly_charge: float = 0.0
    payment_method: str | None = None
    segment: str | None = None
    region: str | None = None
    plan_code: str | None = None
    birth_year: int | None = None  # protected: never a feature
    extra: dict[str, Any] = field(default_factory=dict)
    erased_at: datetime | None = None  # the subscriber's personal data was erased: nothing to retain
    services: list[ServiceItem] = field(default_factory=list)
    bills: list[BillItem] = field(default_factory=list)
    tickets: list[TicketItem] = field(default_factory=list)
    offers: list[OfferItem] = field(default_factory=list)
