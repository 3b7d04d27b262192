"""Catalog entries and cancel reasons as plain data, and what one acceptance of an offer costs.

Every layer reads these: the catalog files and the database produce them, the eligibility rules, the ranking,
budgets, the simulator and the logs consume them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

DEFAULT_OPEN_ENDED_MONTHS = 12  # a monthly-cost offer without a duration commits this many months
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class OfferSpec:
    """One validated catalog entry, as plain data."""

    code: str
    name: str
    kind: str
    cost_model: str
    cost_amount: Decimal
    script: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    duration_months: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    authority_tier: int = 1
    monthly_budget: Decimal | None = None
    max_per_year: int | None = None
    cooldown_days: int | None = None
    prior_acceptance: float = 0.2
    rules: dict[str, Any] = field(default_factory=dict)
    active: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


OFFER_FIELDS = tuple(f.name for f in fields(OfferSpec))


@dataclass(frozen=True)
class ReasonSpec:
    code: str
    label: str
    description: str = ""
    sort_order: int = 0


def total_cost(offer: OfferSpec) -> Decimal:
    """What one acceptance commits the company to: monthly cost × months, or the one-off amount.

    A monthly-cost offer without a duration counts DEFAULT_OPEN_ENDED_MONTHS months. Budgets, the ranking and
    the logs all use this one figure.
    """
    amount = offer.cost_amount if isinstance(offer.cost_amount, Decimal) else Decimal(str(offer.cost_amount))
    if offer.cost_model == "monthly":
        amount *= offer.duration_months or DEFAULT_OPEN_ENDED_MONTHS
    return amount.quantize(_CENT)
