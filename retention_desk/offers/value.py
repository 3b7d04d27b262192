"""What keeping a subscriber is worth: the one definition the ranking, the simulator and the dashboards share.

Customer value = margin share × monthly charge × expected remaining months. A caller who is kept is expected to
stay a year plus half as long again as they have already been with us (long-standing customers stay longer),
at most five years. The margin share is configuration (``OfferPolicy.margin_share``, default 35%).
"""

from __future__ import annotations

import math

BASE_MONTHS = 12.0
TENURE_WEIGHT = 0.5
MAX_MONTHS = 60.0


def expected_remaining_months(tenure_months: float | None) -> float:
    """Months a kept subscriber is expected to stay; an unknown tenure counts as a new customer."""
    tenure = 0.0 if tenure_months is None or math.isnan(tenure_months) else max(0.0, tenure_months)
    return min(MAX_MONTHS, BASE_MONTHS + TENURE_WEIGHT * tenure)


def customer_value(monthly_charge: float, tenure_months: float | None, margin_share: float) -> float:
    """The margin a kept subscriber is expected to bring, in the account's currency."""
    return max(0.0, float(monthly_charge)) * margin_share * expected_remaining_months(tenure_months)
