"""Seeding the synthetic world: deterministic, replaces itself, and stores what the desk expects."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import ConfigError
from retention_desk.services.catalog.files import load_offers
from retention_desk.services.catalog.store import export_offers
from retention_desk.services.seeding import demo_logins, seed_demo_world, world_is_seeded
from retention_desk.services.staff.users import authenticate
from retention_desk.storage.bulk import world_digest
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, AccountService, Bill, Call, CallOffer, CancelReason, Offer, User

AS_OF = date(2026, 6, 15)
N = 500


def seed(url: str, seed_value: int = 3, accounts: int = N) -> None:
    seed_demo_world(url=url, accounts=accounts, seed=seed_value, as_of=AS_OF)


def count(session: Session, table: type) -> int:
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_same_seed_and_date_give_the_same_world_and_another_seed_a_different_one(db_url: str) -> None:
    seed(db_url)
    first = world_digest(db_url)
    seed(db_url)
    assert world_digest(db_url) == first
    seed(db_url, seed_value=4)
    assert world_digest(db_url) != first


def test_reseeding_replaces_the_world_rather_than_adding_to_it(db_url: str) -> None:
    assert not world_is_seeded(url=db_url)
    seed(db_url)
    assert world_is_seeded(url=db_url)
    with Session(get_engine(db_url)) as session:
        before = {t.__name__: count(session, t) for t in (Account, Bill, Call, CallOffer, User, Offer)}
    seed(db_url, seed_value=5, accounts=300)
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        after = {t.__name__: count(session, t) for t in (Account, Bill, Call, CallOffer, User, Offer)}
    assert after == before
    assert after["Account"] == N


def test_the_catalog_and_cancel_reasons_are_loaded(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        assert count(session, Offer) == len(load_offers())
        assert session.get(CancelReason, "price") is not None


def test_the_demo_agent_can_sign_in_with_the_printed_password_when_the_demo_logins_are_asked_for(db_url: str) -> None:
    seed_demo_world(url=db_url, accounts=N, seed=3, as_of=AS_OF, demo_users=True)
    agent = next(login for login in demo_logins() if login.username == "agent")
    with Session(get_engine(db_url)) as session:
        user = authenticate(session=session, username=agent.username, password=agent.password)
        assert user is not None and user.role == "agent" and user.authority_tier == 1
        assert {u.username for u in session.execute(select(User)).scalars()} >= {d.username for d in demo_logins()}


def test_a_plain_seed_leaves_no_login_with_a_printed_password(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        for login in demo_logins():
            assert authenticate(session=session, username=login.username, password=login.password) is None
        names = {u.username for u in session.execute(select(User)).scalars()}
    assert "admin" not in names and "supervisor" not in names


def test_demo_logins_cover_every_role_and_both_agent_tiers() -> None:
    logins = demo_logins()
    assert {login.role for login in logins} == {"agent", "supervisor", "admin"}
    assert {login.authority_tier for login in logins if login.role == "agent"} == {1, 2}
    assert all(len(login.password) >= 8 for login in logins)


def test_every_phone_number_is_a_valid_norwegian_mobile_in_e164(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        numbers = session.execute(select(Account.phone_normalised)).scalars().all()
    assert len(numbers) == N and len(set(numbers)) == N
    for number in numbers:
        assert re.fullmatch(r"\+47[49]\d{7}", number)
        assert phonenumbers.is_valid_number(phonenumbers.parse(number))


def test_desk_calls_record_honest_propensities_for_the_offers_shown(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        calls = session.execute(select(Call)).scalars().all()
        presented = session.execute(select(CallOffer)).scalars().all()
    assert 0.15 * N < len(calls) < 0.35 * N
    first_presented = {}
    for offer in sorted(presented, key=lambda o: o.rank):
        first_presented.setdefault(offer.call_id, offer.offer_code)
    for call in calls:
        assert call.source == "synthetic" and call.decision_mode == "explore" and call.disposition
        assert [item["rank"] for item in call.ranked] == list(range(1, len(call.ranked) + 1))
        assert sum(item["propensity"] for item in call.ranked) == pytest.approx(1.0, abs=1e-6)
        assert all(0 < item["propensity"] <= 1 for item in call.ranked)
        assert sum(item["offer_code"] is None for item in call.ranked) == 1
        # The decision (rank 1) is what the caller heard first: an offer, or no offer at all.
        assert call.ranked[0]["offer_code"] == first_presented.get(call.id)
    for offer in presented:
        call_ranked = {
            item["offer_code"]: item["rank"] for item in next(c for c in calls if c.id == offer.call_id).ranked
        }
        assert call_ranked[offer.offer_code] == offer.rank
        assert offer.response in ("accepted", "declined")


def test_saved_calls_name_the_offer_that_saved_them(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        for call in session.execute(select(Call).where(Call.disposition == "saved_with_offer")).scalars():
            accepted = session.execute(
                select(CallOffer).where(CallOffer.call_id == call.id, CallOffer.response == "accepted")
            ).scalar_one()
            assert accepted.offer_code == call.offer_code


def test_monthly_charge_is_the_sum_of_the_services_and_bills_stop_after_cancelling(db_url: str) -> None:
    seed(db_url)
    with Session(get_engine(db_url)) as session:
        for account in session.execute(select(Account).limit(100)).scalars():
            prices = session.execute(
                select(AccountService.monthly_price).where(AccountService.account_id == account.id)
            ).scalars()
            assert sum(prices) == account.monthly_charge
        cancelled = session.execute(select(Account).where(Account.status == "cancelled")).scalars().all()
        assert cancelled
        for account in cancelled:
            last = session.execute(select(func.max(Bill.period_start)).where(Bill.account_id == account.id)).scalar()
            assert last is None or last <= account.status_changed_at.date()


def test_seeding_refuses_to_delete_accounts_that_are_not_synthetic(db_url: str) -> None:
    with Session(get_engine(db_url)) as session:
        session.add(Account(account_no="IMP-1", first_name="Ola", source="import:billing"))
        session.commit()
    with pytest.raises(ConfigError, match="not synthetic"):
        seed(db_url)
    with Session(get_engine(db_url)) as session:
        assert count(session, Account) == 1


def test_the_catalog_exported_from_the_database_loads_back_the_same(db_url: str, tmp_path: Path) -> None:
    seed(db_url, accounts=50)
    path = tmp_path / "catalog.toml"
    with Session(get_engine(db_url)) as session:
        assert export_offers(session=session, path=path) == len(load_offers())
    assert load_offers(path) == load_offers()
