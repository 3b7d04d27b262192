"""``retention-desk subject export``: everything stored about one subscriber in one JSON file: theirs only, audited."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session

from retention_desk.storage.tables import AuditEvent
from tests.integration.desk_command import DeskCommand
from tests.integration.subject_world import KARI_NOTE, OLA, subject_world


@pytest.fixture()
def world(session: Session) -> dict[str, int]:
    return subject_world(session)


@pytest.fixture()
def cli(db_url: str, tmp_path: Path) -> DeskCommand:
    return DeskCommand(db_url, tmp_path)


def test_the_export_holds_every_part_of_the_subscriber_and_nothing_of_another(cli, world, session):
    done = cli("subject", "export", "A-1")
    assert done.returncode == 0, done.stderr
    path = cli.folder / "subject-A-1.json"
    assert f"to {path.name}" in done.stdout
    document = json.loads(path.read_text())

    account = document["account"]
    assert (account["account_no"], account["first_name"], account["last_name"]) == ("A-1", "Ola", "Nordmann")
    assert (account["phone_normalised"], account["email"], account["address"]) == (
        OLA["phone"],
        OLA["email"],
        OLA["address"],
    )
    assert account["birth_year"] == OLA["birth_year"] and account["extra"]["customer_name"] == OLA["extra_name"]
    assert account["extra"]["_protected"] == {"gender": "male"}
    assert account["monthly_charge"] == "799.00"  # money as a string
    assert account["created_at"].endswith("+00:00")  # times ISO, in UTC

    assert [s["name"] for s in document["services"]] == ["Fibre 300"]
    assert [(b["period_start"], b["amount"], b["paid_on"]) for b in document["bills"]] == [
        ("2026-02-01", "799.00", "2026-02-20")
    ]
    assert [(t["kind"], t["summary"]) for t in document["tickets"]] == [("outage", OLA["ticket"])]
    assert [(o["offer_code"], o["response"], o["cost"]) for o in document["offer_history"]] == [
        ("DISC10", "accepted", "420.00")
    ]
    (call,) = document["calls"]
    assert call["id"] == world["call1"] and call["notes"] == OLA["note"] and call["agent"] == "anna"
    assert [item["offer_code"] for item in call["ranked"]] == ["DISC10", "DISC30", None]
    assert [(p["offer_code"], p["response"]) for p in call["presented_offers"]] == [("DISC10", "accepted")]
    (request,) = document["approval_requests"]
    assert (request["offer_code"], request["status"], request["note"]) == ("DISC30", "approved", OLA["approval"])

    events = [(e["action"], e["actor_name"]) for e in document["audit_events"]]
    assert ("account_viewed", "anna") in events and ("account_viewed", "siri") in events
    assert ("approval_approved", "siri") in events
    viewed = next(e for e in document["audit_events"] if e["action"] == "account_viewed")
    assert viewed["detail"] == f"GET /desk/accounts/{world['ola']}" and viewed["ip"] == "10.0.0.7"

    text = path.read_text()
    assert "Kari" not in text and KARI_NOTE not in text and "A-2" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a person's data: readable by its owner only


def test_the_export_is_audited_as_done_by_the_command_line(cli, world, session):
    assert cli("subject", "export", "A-1").returncode == 0
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "subject_exported")).scalar_one()
    assert (event.actor_name, event.entity_type, event.entity_id) == ("cli", "account", str(world["ola"]))
    assert OLA["name"] not in json.dumps([event.detail, event.before, event.after])


def test_an_existing_file_is_kept_unless_forced(cli, world, tmp_path):
    target = tmp_path / "mine.json"
    target.write_text("keep me")
    refused = cli("subject", "export", "A-1", "--out", str(target))
    assert refused.returncode == 2 and "pass --force" in refused.stderr and "Traceback" not in refused.stderr
    assert target.read_text() == "keep me"
    forced = cli("subject", "export", "A-1", "--out", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(target.read_text())["account"]["account_no"] == "A-1"


def test_an_unknown_account_is_one_sentence_and_exit_2(cli, world, session):
    for command in (("export", "NOPE-9"), ("erase", "NOPE-9", "--yes"), ("erase", "NOPE-9")):
        done = cli("subject", *command)
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert lines == ["Error: There is no account with the number 'NOPE-9'."]
    assert not (cli.folder / "subject-NOPE-9.json").exists()
    assert session.execute(select(AuditEvent).where(AuditEvent.action.like("subject_%"))).first() is None
