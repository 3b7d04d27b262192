"""Importing billing-system CSVs into a real database: the public churn files, broken copies, re-imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.services.importing.accounts import ImportFailed, import_accounts
from retention_desk.services.models.nightly import load_training_rows
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, AuditEvent
from tests.shared_data import IRANIAN, ORANGE_20, ORANGE_80, ORANGE_MAPPING, needs_shared_data

ROOT = Path(__file__).parents[2]
IBM_SAMPLE = ROOT / "tests" / "data" / "ibm-telco-sample.csv"
MAPPINGS = ROOT / "seed" / "mappings"


def accounts(url: str) -> list[Account]:
    with Session(get_engine(url)) as session:
        return list(session.execute(select(Account).order_by(Account.account_no)).scalars())


def count(url: str, *where: object) -> int:
    with Session(get_engine(url)) as session:
        return session.execute(select(func.count()).select_from(Account).where(*where)).scalar_one()


def broken_copy(tmp_path: Path) -> Path:
    """The 20% Orange file with four bad rows: an unknown label, a non yes/no, a non-number, an extra field."""
    lines = ORANGE_20.read_text().splitlines()
    lines[4] = lines[4].replace(",False", ",Maybe")  # line 5
    fields = lines[9].split(",")
    fields[3] = "abc"  # line 10, International plan
    lines[9] = ",".join(fields)
    fields = lines[14].split(",")
    fields[6] = "12x"  # line 15, Total day minutes
    lines[14] = ",".join(fields)
    lines[20] += ",surplus"  # line 21
    path = tmp_path / "churn-broken.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@needs_shared_data
def test_both_orange_files_import_with_the_committed_mapping(db_url: str) -> None:
    for path in (ORANGE_80, ORANGE_20):
        report = import_accounts(url=db_url, path=path, mapping=ORANGE_MAPPING)
        assert report.committed and report.bad_row_count == 0
    assert count(db_url) == 3333
    assert count(db_url, Account.churn_label.is_(True)) == 483
    first = next(a for a in accounts(db_url) if a.account_no == "churn-bigml-80-000002")
    assert first.region == "KS" and first.currency == "USD" and first.source == "import:churn-bigml-80.csv"
    assert first.extra["total_day_minutes"] == 265.1
    assert first.extra["voice_mail_plan"] is True and first.extra["international_plan"] is False
    assert first.extra["area_code"] == "415"
    assert "churn" not in first.extra and "state" not in first.extra


@needs_shared_data
def test_importing_the_same_file_again_updates_instead_of_duplicating(db_url: str) -> None:
    import_accounts(url=db_url, path=ORANGE_20, mapping=ORANGE_MAPPING)
    again = import_accounts(url=db_url, path=ORANGE_20, mapping=ORANGE_MAPPING)
    assert (again.inserted, again.updated) == (0, 667)
    assert count(db_url) == 667


@needs_shared_data
def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_line(db_url: str, tmp_path: Path) -> None:
    report = import_accounts(url=db_url, path=broken_copy(tmp_path), mapping=ORANGE_MAPPING)
    assert report.stopped and not report.committed
    assert [bad.line for bad in report.bad_rows] == [5, 10, 15, 21]
    assert "column 'Total day minutes' ('12x'): is not a number" in report.bad_rows[2].describe()
    assert count(db_url) == 0


@needs_shared_data
def test_skip_bad_rows_imports_the_rest(db_url: str, tmp_path: Path) -> None:
    report = import_accounts(url=db_url, path=broken_copy(tmp_path), mapping=ORANGE_MAPPING, skip_bad_rows=True)
    assert report.committed and report.skipped == 4
    assert count(db_url) == 663
    assert count(db_url, Account.account_no == "churn-broken-000005") == 0


@needs_shared_data
def test_a_dry_run_checks_everything_and_stores_nothing(db_url: str) -> None:
    report = import_accounts(url=db_url, path=ORANGE_20, mapping=ORANGE_MAPPING, dry_run=True)
    assert report.inserted == 667 and not report.committed
    assert count(db_url) == 0


@needs_shared_data
def test_the_iranian_file_imports_its_duplicate_rows_as_separate_accounts(db_url: str) -> None:
    report = import_accounts(url=db_url, path=IRANIAN, mapping=MAPPINGS / "iranian-churn.toml")
    assert report.committed and report.inserted == 3150
    assert count(db_url, Account.churn_label.is_(True)) == 495
    row = next(a for a in accounts(db_url) if a.account_no == "IR-000002")
    assert row.extra["call_failures"] == 8 and row.extra["complains"] is False
    assert row.extra["_protected"] == {"age_group": 3, "age": 30}
    assert row.customer_since is not None


def test_the_ibm_telco_layout_imports_with_its_mapping(db_url: str) -> None:
    report = import_accounts(url=db_url, path=IBM_SAMPLE, mapping="ibm-telco-churn")
    assert report.committed and report.inserted == 40
    rows = accounts(db_url)
    assert {a.contract_type for a in rows} <= {"month_to_month", "one_year", "two_year"}
    new_customers = [a for a in rows if a.extra["total_charges"] is None]
    assert len(new_customers) == 2  # blank TotalCharges for customers in their first month
    assert all(set(a.extra["_protected"]) == {"gender", "senior_citizen"} for a in rows)
    assert all(a.monthly_charge > 0 and a.currency == "USD" for a in rows)


def test_an_account_number_repeated_in_the_file_is_a_bad_row_even_chunks_apart(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "repeats.csv"
    lines = ["id,Minutes"] + [f"A{i},{i}" for i in range(6000)] + ["A3,1", "A5999,2"]
    path.write_text("\n".join(lines) + "\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[account]\naccount_no = "id"\n')
    report = import_accounts(url=db_url, path=path, mapping=mapping)
    assert [bad.line for bad in report.bad_rows] == [6002, 6003]
    assert "repeats the account number of an earlier line" in report.bad_rows[0].describe()
    assert "repeats the account number of line 6001" in report.bad_rows[1].describe()
    assert count(db_url) == 0


def test_an_import_is_recorded_in_the_audit_log(db_url: str) -> None:
    import_accounts(url=db_url, path=IBM_SAMPLE, mapping="ibm-telco-churn")
    with Session(get_engine(db_url)) as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "accounts_imported")).scalar_one()
    assert event.entity_id == "ibm-telco-sample.csv" and event.after["inserted"] == 40


@needs_shared_data
def test_imported_labels_and_extras_become_training_rows(db_url: str, settings: Settings) -> None:
    import_accounts(url=db_url, path=ORANGE_20, mapping=ORANGE_MAPPING)
    data = load_training_rows(settings=settings)
    assert (data.n_imported, data.n_calls, int(data.y.sum())) == (667, 0, 95)
    row = data.rows[0]
    assert row["x_total_day_minutes"] == 184.5 and row["x_international_plan"] == 0.0
    assert row["x_area_code"] == "408"
    assert row["region"] == "LA"


def run_cli(*args: str, database: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    env.update(
        RETENTION_DESK_DATABASE_URL=f"sqlite:///{database}",
        RETENTION_DESK_INSTANCE_PATH=str(database.parent / "instance"),
    )
    command = [sys.executable, "-m", "retention_desk", "import", "accounts", *args, "--quiet"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)


@needs_shared_data
def test_the_import_command_exit_codes_and_messages(tmp_path: Path) -> None:
    database = tmp_path / "cli.sqlite3"
    ok = run_cli(str(ORANGE_20), "--mapping", "orange-telecom-churn", database=database)
    assert ok.returncode == 0, ok.stderr
    assert "667 rows read, 667 new accounts, 0 updated, 0 bad rows skipped" in ok.stdout

    bad = run_cli(str(broken_copy(tmp_path)), "--mapping", str(ORANGE_MAPPING), database=database)
    assert bad.returncode == 1
    assert bad.stderr.splitlines()[0].startswith("line 5: column 'Churn' ('Maybe')")
    assert "Imported nothing from churn-broken.csv: 4 of 667 rows are bad" in bad.stdout

    skipped = run_cli(
        str(tmp_path / "churn-broken.csv"),
        "--mapping",
        "orange-telecom-churn",
        "--skip-bad-rows",
        "--json",
        database=database,
    )
    assert skipped.returncode == 0
    assert json.loads(skipped.stdout)["inserted"] == 663

    wrong = run_cli(str(IRANIAN), "--mapping", "orange-telecom-churn", database=database)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "account.region names column 'State', which is not in the file's header" in wrong.stderr

    missing = run_cli(str(tmp_path / "nope.csv"), "--mapping", "orange-telecom-churn", database=database)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


NORDIC_MAPPING = """
[csv]
delimiter = ";"
decimal = ","
encoding = "cp1252"
header_row = 2
date_format = "%d.%m.%Y"

[account]
account_no = "Kundenr"
first_name = "Fornavn"
last_name = "Etternavn"
phone = "Mobil"
monthly_charge = "Månedspris"
contract_end = "Bindingstid til"
contract_type = "Avtale"

[values.contract_type]
"Uten binding" = "month_to_month"
"12 mnd" = "one_year"
"""


def test_a_nordic_export_with_semicolons_decimal_commas_and_a_title_line_imports(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "kunder.csv"
    path.write_bytes(
        "Eksport fra faktura 2026-11-01\n"
        "Kundenr;Fornavn;Etternavn;Mobil;Månedspris;Bindingstid til;Avtale;Strømming timer\n"
        "1001;Kåre;Østby;912 34 567;499,90;31.03.2027;12 mnd;12,5\n"
        "1002;Siv;Ås;+47 41234567;299,00;;Uten binding;\n".encode("cp1252")
    )
    mapping = tmp_path / "nordic.toml"
    mapping.write_text(NORDIC_MAPPING, encoding="utf-8")
    report = import_accounts(url=db_url, path=path, mapping=mapping)
    assert report.committed and report.inserted == 2, [b.describe() for b in report.bad_rows]
    kare, siv = accounts(db_url)
    assert (kare.last_name, kare.phone_normalised, str(kare.monthly_charge)) == ("Østby", "+4791234567", "499.90")
    assert kare.contract_type == "one_year" and kare.contract_end.isoformat() == "2027-03-31"
    assert kare.extra == {"stromming_timer": 12.5} and siv.extra == {"stromming_timer": None}
    assert kare.name_search == "kåre østby"


def test_a_file_in_another_encoding_than_the_mapping_says_is_refused_with_the_fix(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id;navn\n1;Østby\n".encode("cp1252"))
    mapping = tmp_path / "m.toml"
    mapping.write_text('[csv]\ndelimiter = ";"\n[account]\naccount_no = "id"\n')
    with pytest.raises(ImportFailed, match=r"is not utf-8 text \(line 2\); set \[csv\] encoding"):
        import_accounts(url=db_url, path=path, mapping=mapping)
    assert count(db_url) == 0
