"""A small labelled data set where a month-to-month contract raises churn: enough to fit a real model fast."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any


def contract_driven_rows(seed: int, n: int = 300) -> tuple[list[dict[str, Any]], list[int], list[datetime]]:
    """(feature rows, labels, call times) with churn 0.6 on month-to-month contracts and 0.1 on two-year ones."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows, labels, times = [], [], []
    for i in range(n):
        contract = rng.choice(["month_to_month", "two_year"])
        rows.append({"contract_type": contract, "monthly_charge": rng.uniform(200, 900), "tickets_90d": 0.0})
        labels.append(int(rng.random() < (0.6 if contract == "month_to_month" else 0.1)))
        times.append(start + timedelta(hours=i))
    return rows, labels, times
