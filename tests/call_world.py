"""Accounts for the desk's call-flow tests in the shared seeded world, and fixed ranking draws.

Calls made through the desk persist in the session-wide world, so these tests take accounts from the top of the
id range (the other world tests read the lowest ids), each account once per world database.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.services.calls import steps as call_service
from retention_desk.services.calls.steps import start_call
from retention_desk.services.staff.users import get_user_by_username
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account

EXPLOIT = (0.99, 0.99)  # draws that take the best action: no hold-out, no exploration
TAKEN: dict[str, set[int]] = {}  # accounts a call-flow test has used, per world database


def fix_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The desk draws fresh random numbers for each ranking; a test needs the ordinary, best-action case."""
    monkeypatch.setattr(call_service, "random", SimpleNamespace(random=lambda: EXPLOIT[0]))


def presentable(ranked: list[dict]) -> list[str]:
    """The offers on a ranked list the agent may present without approval, in rank order."""
    return [i["offer_code"] for i in ranked if i["offer_code"] and not i["needs_approval"]]


def offer_first(ranked: list[dict]) -> bool:
    """The policy's decision is an offer the agent may present (not "no offer", which a day's world can choose)."""
    top = min(ranked, key=lambda i: i["rank"], default=None)
    return top is not None and top["offer_code"] is not None and not top["needs_approval"]


def owned_account(
    settings: Settings,
    wanted: Callable[[list[dict]], bool] = lambda ranked: True,
    skip: int = 0,
    unique_phone: bool = False,
) -> int:
    """An unused active account from the top of the id range whose ranked list (for reason "price") suits the test.

    The list is tried in a transaction that is rolled back, so looking leaves nothing behind.
    """
    taken = TAKEN.setdefault(settings.database_url, set())
    with Session(get_engine(settings.database_url), expire_on_commit=False) as session:
        agent = get_user_by_username(session=session, username="agent")
        query = select(Account.id).where(Account.status == "active")
        if unique_phone:
            once = select(Account.phone_normalised).group_by(Account.phone_normalised).having(func.count() == 1)
            query = query.where(Account.phone_normalised.like("+47%"), Account.phone_normalised.in_(once))
        ids = list(session.execute(query.order_by(Account.id.desc()).offset(skip).limit(300)).scalars())
        for account_id in ids:
            if account_id in taken:
                continue
            state = start_call(
                session=session,
                settings=settings,
                account_id=account_id,
                agent_id=agent.id,
                idempotency_key=f"probe-{account_id}",
                reason="price",
                draws=EXPLOIT,
            )
            ranked = list(state.call.ranked)
            session.rollback()
            if wanted(ranked):
                taken.add(account_id)
                return account_id
    raise AssertionError("no account in the test world suits this test")
