"""A tiny hand-made world of accounts and desk calls whose outcomes follow a known rule (for model tests)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, Bill, Call

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CONTRACT_RISK = {"month_to_month": 0.55, "one_year": 0.25, "two_year": 0.08}


def insert_call_world(url: str, *, accounts: int = 400, seed: int = 5) -> None:
    """Accounts with one cancel call each; month-to-month callers leave more often than two-year ones."""
    rng = random.Random(seed)
    with Session(get_engine(url)) as session:
        for i in range(accounts):
            contract = rng.choice(list(CONTRACT_RISK))
            started = NOW - timedelta(days=rng.uniform(100, 500))
            left = rng.random() < CONTRACT_RISK[contract]
            account = Account(
                account_no=f"T{i:06d}",
                contract_type=contract,
                customer_since=date(2020, 1, 1) + timedelta(days=rng.randint(0, 1500)),
                monthly_charge=Decimal(rng.choice([299, 499, 799])),
                payment_method=rng.choice(["card", "invoice"]),
                region=rng.choice(["Oslo", "Bergen"]),
                status="cancelled" if left else "active",
                status_changed_at=started + timedelta(days=rng.uniform(0, 30)) if left else None,
            )
            session.add(account)
            session.flush()
            for month in range(6):
                start = (started - timedelta(days=30 * (month + 1))).date()
                session.add(Bill(account_id=account.id, period_start=start, amount=account.monthly_charge))
            session.add(Call(idempotency_key=f"k{i}", account_id=account.id, started_at=started, source="synthetic"))
        session.commit()
