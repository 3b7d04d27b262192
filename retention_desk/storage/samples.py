"""A spread-out sample of stored accounts, for "what does a typical account look like" questions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.storage.tables import Account


def spread_account_ids(session: Session, *, limit: int) -> list[int]:
    """Up to ``limit`` account ids spread evenly over the id range (not just the oldest accounts)."""
    total = int(session.execute(select(func.count()).select_from(Account)).scalar_one())
    if total == 0 or limit <= 0:
        return []
    step = max(total // limit, 1)
    ids = session.execute(select(Account.id).order_by(Account.id)).scalars()
    return [i for n, i in enumerate(ids) if n % step == 0][:limit]
