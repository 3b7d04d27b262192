"""``retention-desk subject erase``: the person's data goes everywhere it was written, the account and its figures
stay, the audit row tells what was done without repeating what was erased, and nothing brings the data back."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from retention_desk.services.accounts import find_accounts
from retention_desk.services.importing.accounts import import_accounts
from retention_desk.services.subjects import erase_subject, is_personal_extra
from retention_desk.services.supervision.dashboards import DashboardFilter, supervisor_dashboard
from retention_desk.storage.tables import Account, ApprovalRequest, AuditEvent, Call, Ticket
from retention_desk.storage.training_data import plan_training_set
from tests.integration.churn_world import insert_call_world
from tests.integration.desk_command import DeskCommand
from tests.integration.subject_world import KARI_NOTE, OLA, subject_world

PERSONAL_VALUES = [str(v) for k, v in OLA.items() if k not in ("name",)] + ["Ola "]


@pytest.fixture()
def world(session: Session) -> dict[str, int]:
    return subject_world(session)


@pytest.fixture()
def cli(db_url: str, tmp_path: Path) -> DeskCommand:
    return DeskCommand(db_url, tmp_path)


def _account(session: Session, account_id: int) -> Account:
    session.expire_all()
    return session.get(Account, account_id)


def test_erasing_removes_every_personal_field_and_keeps_the_account(cli, world, session):
    done = cli("subject", "erase", "A-1", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Erased the personal data of account A-1" in done.stdout
    ola = _account(session, world["ola"])
    assert (ola.first_name, ola.last_name, ola.name_search, ola.surname_search) == ("", "", "", "")
    assert (ola.email, ola.email_normalised, ola.phone, ola.phone_normalised) == (None, None, None, None)
    assert (ola.address, ola.postcode, ola.city, ola.birth_year) == (None, None, None, None)
    assert ola.extra == {"phone_service": True, "total_charges": 18250.5}
    assert ola.erased_at is not None and ola.erased_at.tzinfo is not None
    # What the figures and the model rest on stays.
    assert (ola.account_no, ola.status, ola.plan_code, ola.region) == ("A-1", "active", "TV_BB_300", "Innlandet")
    assert str(ola.monthly_charge) == "799.00"

    call = session.get(Call, world["call1"])
    assert call.notes == "" and call.disposition == "saved_with_offer" and len(call.ranked) == 3
    assert all(r["value"] != OLA["extra_name"] for r in call.reasons)
    assert {r["feature"] for r in call.reasons} >= {"outages_90d", "x_customer_name"}
    ticket = session.execute(select(Ticket).where(Ticket.account_id == world["ola"])).scalar_one()
    assert (ticket.summary, ticket.kind, ticket.duration_hours) == ("", "outage", 4.5)
    assert session.get(ApprovalRequest, world["request"]).note == ""
    # The other subscriber is untouched.
    assert _account(session, world["kari"]).first_name == "Kari"
    assert session.get(Call, world["call2"]).notes == KARI_NOTE


def test_no_audit_row_about_the_account_holds_the_erased_data(cli, world, session):
    assert cli("subject", "erase", "A-1", "--yes").returncode == 0
    events = session.execute(select(AuditEvent).where(AuditEvent.entity_type.in_(["account", "approval_request"])))
    text = json.dumps([[e.actor_name, e.detail, e.before, e.after, e.entity_id] for e in events.scalars()])
    for value in PERSONAL_VALUES:
        assert value not in text, value
    erased = session.execute(select(AuditEvent).where(AuditEvent.action == "subject_erased")).scalar_one()
    assert (erased.actor_name, erased.entity_type, erased.entity_id) == ("cli", "account", str(world["ola"]))
    assert erased.after["extra_keys_removed"] == ["_protected", "customer_name", "date_of_birth", "home_phone"]
    approved = session.execute(select(AuditEvent).where(AuditEvent.action == "approval_approved")).scalar_one()
    assert approved.after["note"] == "" and approved.after["status"] == "approved"


def test_search_no_longer_finds_the_old_name_phone_or_e_mail_but_the_account_number_does(world, session):
    assert [a.id for a in find_accounts(session=session, query="Nordmann")] == [world["ola"]]
    erase_subject(session=session, account_no="A-1")
    session.commit()
    for query in ("Nordmann", "Ola Nordmann", OLA["phone"], "912 34 567", OLA["email"]):
        assert find_accounts(session=session, query=query) == [], query
    (found,) = find_accounts(session=session, query="A-1")
    assert (found.id, found.name, found.phone, found.email, found.city, found.erased) == (
        world["ola"],
        "A-1",
        None,
        None,
        None,
        True,
    )


def test_erasing_twice_says_it_was_already_erased_and_keeps_the_first_date(cli, world, session):
    first = erase_subject(session=session, account_no="A-1", now=datetime(2026, 4, 1, 9, tzinfo=UTC))
    session.commit()
    again = cli("subject", "erase", "A-1", "--yes")
    assert again.returncode == 0, again.stderr
    assert "already erased on 2026-04-01 09:00 UTC" in again.stdout
    assert _account(session, world["ola"]).erased_at == first.erased_at
    actions = session.execute(select(AuditEvent.detail).where(AuditEvent.action == "subject_erased")).scalars()
    assert len(list(actions)) == 2


def test_without_yes_the_command_asks_and_a_no_changes_nothing(cli, world, session):
    refused = cli("subject", "erase", "A-1", stdin="n\n")
    assert refused.returncode != 0 and "cannot be undone" in refused.stderr
    assert _account(session, world["ola"]).first_name == "Ola"
    agreed = cli("subject", "erase", "A-1", stdin="y\n")
    assert agreed.returncode == 0, agreed.stderr
    assert _account(session, world["ola"]).first_name == ""


def test_the_dashboards_totals_are_the_same_before_and_after(world, session):
    filters = DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    as_of = datetime(2026, 6, 30, 12, tzinfo=UTC)
    before = dataclasses.asdict(supervisor_dashboard(session=session, filters=filters, as_of=as_of))
    erase_subject(session=session, account_no="A-1")
    session.commit()
    after = dataclasses.asdict(supervisor_dashboard(session=session, filters=filters, as_of=as_of))
    assert before["total"]["calls"] == 2 and before["total"]["saves"] == 2
    assert after == before


def test_the_billing_systems_next_import_does_not_bring_the_personal_data_back(world, session, db_url, tmp_path):
    erase_subject(session=session, account_no="A-1")
    session.commit()
    csv = tmp_path / "billing.csv"
    csv.write_text(
        "id,first,last,phone,email,charge,customer_name\n"
        f"A-1,Ola,Nordmann,{OLA['phone']},{OLA['email']},899.00,{OLA['extra_name']}\n"
        "A-3,Per,Hansen,+4790000003,per@example.no,499.00,Per H\n"
    )
    mapping = tmp_path / "billing.toml"
    mapping.write_text(
        '[account]\naccount_no = "id"\nfirst_name = "first"\nlast_name = "last"\nphone = "phone"\n'
        'email = "email"\nmonthly_charge = "charge"\n'
    )
    report = import_accounts(url=db_url, path=csv, mapping=mapping)
    assert report.committed and (report.inserted, report.updated) == (1, 1)
    ola = _account(session, world["ola"])
    assert (ola.first_name, ola.phone_normalised, ola.email, ola.name_search) == ("", None, None, "")
    assert "customer_name" not in ola.extra
    assert str(ola.monthly_charge) == "899.00"  # the billing facts still update
    per = session.execute(select(Account).where(Account.account_no == "A-3")).scalar_one()
    assert (per.first_name, per.extra["customer_name"]) == ("Per", "Per H")


@pytest.mark.parametrize(
    ("key", "personal"),
    [
        ("customer_name", True),
        ("home_phone", True),
        ("phone_number", True),
        ("e_mail", True),
        ("date_of_birth", True),
        ("BirthYear", True),
        ("gender", True),
        ("_protected", True),
        ("zip_code", True),
        ("phone_service", False),
        ("voice_mail_plan", False),
        ("distinct_called_numbers", False),
        ("total_charges", False),
        ("area_code", False),
    ],
)
def test_which_import_extras_count_as_personal(key, personal):
    assert is_personal_extra(key) is personal


@pytest.mark.slow
def test_the_nightly_training_still_trains_on_erased_subscribers(db_url, cli, session):
    insert_call_world(db_url, accounts=300)
    numbers = list(session.execute(select(Account.account_no).order_by(Account.id).limit(40)).scalars())
    planned = plan_training_set(session)
    for number in numbers:
        erase_subject(session=session, account_no=number)
    session.commit()
    assert plan_training_set(session) == planned
    result = cli("retrain", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Dry run" in result.stdout
