from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from retention_desk.storage.tables import Account, AuditEvent, Bill


def test_times_come_back_in_utc_on_both_databases(session: Session) -> None:
    oslo = timezone(timedelta(hours=1))
    event = AuditEvent(action="test", at=datetime(2026, 3, 1, 12, 0, tzinfo=oslo))
    session.add(event)
    session.commit()
    session.expire_all()
    stored = session.get(AuditEvent, event.id)
    assert stored.at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert stored.at.tzinfo is not None


def test_a_naive_time_is_refused_rather_than_guessed(session: Session) -> None:
    session.add(AuditEvent(action="test", at=datetime(2026, 3, 1, 12, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_money_keeps_its_oere(session: Session) -> None:
    account = Account(account_no="A1", monthly_charge=Decimal("649.90"))
    session.add(account)
    session.commit()
    session.expire_all()
    assert session.get(Account, account.id).monthly_charge == Decimal("649.90")


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Bill(account_id=999_999, period_start=datetime(2026, 1, 1).date(), amount=Decimal("1")))
    with pytest.raises(IntegrityError):
        session.commit()
