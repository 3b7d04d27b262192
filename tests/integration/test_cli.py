"""The command line as an operator meets it: real processes, real exit codes, one sentence on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_SECRET = "3c1f0a9e8d7c6b5a4f3e2d1c0b9a8f7e"


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "retention_desk", *args],
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )


@pytest.fixture()
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "RETENTION_DESK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "RETENTION_DESK_MODEL_DIR": str(tmp_path / "models"),
        "RETENTION_DESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "RETENTION_DESK_SECRET_KEY": GOOD_SECRET,
    }


def assert_one_clear_sentence(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_an_unreachable_database_is_one_sentence_and_a_non_zero_exit(cli_env: dict[str, str]) -> None:
    cli_env["RETENTION_DESK_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/nowhere"
    for command in (["db", "upgrade"], ["serve"], ["retrain"], ["seed", "--accounts", "10"]):
        assert_one_clear_sentence(run_cli(*command, env=cli_env), "Cannot reach the database")


def test_a_malformed_database_url_is_named(cli_env: dict[str, str]) -> None:
    cli_env["RETENTION_DESK_DATABASE_URL"] = "not a url"
    assert_one_clear_sentence(run_cli("db", "upgrade", env=cli_env), "not a database URL")


def test_an_unwritable_model_folder_stops_serve_and_retrain(cli_env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    cli_env["RETENTION_DESK_MODEL_DIR"] = str(blocker / "models")
    for command in (["serve"], ["retrain"]):
        assert_one_clear_sentence(run_cli(*command, env=cli_env), "not writable")


@pytest.mark.parametrize("secret", ["changeme", ""])
def test_serve_refuses_a_placeholder_secret(cli_env: dict[str, str], secret: str) -> None:
    cli_env["RETENTION_DESK_SECRET_KEY"] = secret
    assert_one_clear_sentence(run_cli("serve", env=cli_env), "RETENTION_DESK_SECRET_KEY")


def test_serve_asks_for_migrations_on_an_empty_database(cli_env: dict[str, str]) -> None:
    assert_one_clear_sentence(run_cli("serve", env=cli_env), "db upgrade")


def test_users_add_then_list_and_a_duplicate_is_refused(cli_env: dict[str, str]) -> None:
    added = run_cli("users", "add", "kari", "--role", "supervisor", "--password", "long-enough-1", env=cli_env)
    assert added.returncode == 0, added.stderr
    assert "supervisor 'kari'" in added.stdout
    listed = run_cli("users", "list", env=cli_env)
    assert "kari" in listed.stdout and "supervisor" in listed.stdout
    again = run_cli("users", "add", "kari", "--password", "long-enough-1", env=cli_env)
    assert_one_clear_sentence(again, "already exists")


def test_users_password_disable_and_enable_are_one_sentence_each(cli_env: dict[str, str]) -> None:
    assert run_cli("users", "add", "siv", "--password", "long-enough-1", env=cli_env).returncode == 0
    changed = run_cli("users", "password", "siv", "--password", "long-enough-2", env=cli_env)
    assert changed.returncode == 0 and "sessions have ended" in changed.stdout
    disabled = run_cli("users", "disable", "siv", env=cli_env)
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert "(disabled)" in run_cli("users", "list", env=cli_env).stdout
    assert run_cli("users", "enable", "siv", env=cli_env).returncode == 0
    unknown = run_cli("users", "disable", "nobody", env=cli_env)
    assert unknown.returncode == 2 and unknown.stderr.strip() == "Error: There is no user named 'nobody'."


def test_a_short_password_is_refused(cli_env: dict[str, str]) -> None:
    result = run_cli("users", "add", "ola", "--password", "short", env=cli_env)
    assert_one_clear_sentence(result, "at least 8 characters")


def test_db_upgrade_reports_the_revision(cli_env: dict[str, str]) -> None:
    result = run_cli("db", "upgrade", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout
    assert run_cli("db", "current", env=cli_env).returncode == 0


def test_seed_creates_no_demo_logins_unless_asked_and_an_admin_can_then_be_added(db_url: str) -> None:
    from retention_desk.services.database import session_scope
    from retention_desk.services.staff.users import authenticate

    env = {"RETENTION_DESK_DATABASE_URL": db_url, "RETENTION_DESK_SECRET_KEY": GOOD_SECRET}
    seeded = run_cli("seed", "--accounts", "200", "--quiet", env=env)
    assert seeded.returncode == 0 and "Warning" not in seeded.stderr
    added = run_cli(
        "users", "add", "admin", "--role", "admin", "--tier", "3", "--password", "a real passphrase", env=env
    )
    assert added.returncode == 0, added.stderr
    with session_scope(db_url) as session:
        assert authenticate(session=session, username="admin", password="admin-demo-1") is None
        assert authenticate(session=session, username="agent", password="agent-demo-1") is None
        assert authenticate(session=session, username="admin", password="a real passphrase") is not None
    demo = run_cli("seed", "--accounts", "200", "--quiet", "--demo-users", env=env)
    assert demo.returncode == 0 and "Warning" in demo.stderr
    with session_scope(db_url) as session:
        assert authenticate(session=session, username="agent", password="agent-demo-1") is not None


def test_gunicorn_with_a_placeholder_secret_stops_with_one_sentence(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_DESK_")}
    env.update({**cli_env, "RETENTION_DESK_SECRET_KEY": "changeme"})
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "retention_desk.wsgi:app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "Error: RETENTION_DESK_SECRET_KEY is missing or a placeholder" in done.stderr


def test_an_import_with_a_nul_byte_and_a_catalog_with_a_huge_number_are_one_sentence(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    csv_file = tmp_path / "nul.csv"
    csv_file.write_bytes(b"account_no,first_name\nA1,Ol\x00a\n")
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[account]\naccount_no = "account_no"\nfirst_name = "first_name"\n'
        '[defaults]\ncontract_type = "month_to_month"\nmonthly_charge = 100\ncurrency = "NOK"\nstatus = "active"\n'
    )
    imported = run_cli("import", "accounts", str(csv_file), "--mapping", str(mapping), env=cli_env)
    assert imported.returncode == 1 and "Traceback" not in imported.stderr
    assert "holds a control character" in imported.stderr
    catalog = tmp_path / "big.toml"
    catalog.write_text(
        '[[offers]]\ncode = "X1"\nname = "x"\nkind = "bill_credit"\ncost_model = "one_off"\ncost_amount = 1\n'
        f"prior_acceptance = {'9' * 400}\nparams = {{ amount = 1 }}\n"
    )
    assert_one_clear_sentence(run_cli("catalog", "load", str(catalog), env=cli_env), "prior_acceptance")


def test_a_database_url_of_another_kind_is_named(cli_env: dict[str, str]) -> None:
    result = run_cli("users", "list", env={**cli_env, "RETENTION_DESK_DATABASE_URL": "mysql://u@localhost/db"})
    assert_one_clear_sentence(result, "mysql", "SQLite", "PostgreSQL")
