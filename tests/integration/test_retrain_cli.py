"""``retention-desk retrain`` as cron runs it: real processes, exit codes, the JSON summary, the lock, kill -9."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from retention_desk.config import test_settings
from retention_desk.ml.registry import load_serving_model
from retention_desk.services.models.nightly import NIGHTLY_ACTION
from retention_desk.storage.db import session_scope
from retention_desk.storage.locks import LockBusy, exclusive_lock
from retention_desk.storage.tables import AuditEvent, ModelVersion
from tests.integration.cli_world import ROOT, command, copy_world, run_cli, seed_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(tmp_path_factory.mktemp("cli-world-template"))


@pytest.fixture()
def world_env(template: Path, tmp_path: Path) -> dict[str, str]:
    return copy_world(template, tmp_path / "world")


def _settings(env: dict[str, str]):
    folder = Path(env["RETENTION_DESK_MODEL_DIR"]).parent
    settings = test_settings(env["RETENTION_DESK_DATABASE_URL"], folder)
    assert settings.model_dir == Path(env["RETENTION_DESK_MODEL_DIR"])
    return settings


def _nightly_runs(env: dict[str, str]) -> list[dict]:
    with session_scope(env["RETENTION_DESK_DATABASE_URL"]) as session:
        stmt = select(AuditEvent.after).where(AuditEvent.action == NIGHTLY_ACTION).order_by(AuditEvent.id)
        return list(session.execute(stmt).scalars())


def _rows(env: dict[str, str]) -> dict[str, str]:
    with session_scope(env["RETENTION_DESK_DATABASE_URL"]) as session:
        return dict(session.execute(select(ModelVersion.version, ModelVersion.status)).all())


def test_two_runs_in_a_row_say_what_they_did_and_carry_both_models_metrics(world_env):
    first = run_cli("retrain", env=world_env)
    assert first.returncode == 0, first.stderr
    assert "Promoted it to champion: there was no working champion." in first.stdout

    second = run_cli("retrain", "--json", "--quiet", env=world_env)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["decision"] in {"promoted", "kept"} and summary["reason"]
    assert summary["champion"]["version"] and summary["new"]["version"] != summary["champion"]["version"]
    for model in (summary["new"], summary["champion"]):
        assert {"roc_auc", "log_loss", "brier", "ece", "top_decile_lift"} <= model["metrics"].keys()
    assert summary["new"]["metrics"]["n"] == summary["champion"]["metrics"]["n"] == summary["holdout"]["rows"]
    assert summary["label_horizon_days"] == 90
    assert summary["training_window"]["first_call"] < summary["holdout"]["first_call"]
    assert summary["selection"]["chosen"] == summary["new"]["candidate"]
    assert summary["rows"]["train"] + summary["rows"]["holdout"] == summary["rows"]["calls"]
    # Each run leaves one audit row saying what both models did (the model page's "last nightly run").
    runs = _nightly_runs(world_env)
    assert len(runs) == 2 and all(run["outcome"] == "finished" for run in runs)
    assert runs[-1]["churn"] == {
        "decision": summary["decision"],
        "reason": summary["reason"],
        "version": summary["new"]["version"],
    }
    assert runs[-1]["offer_model"]["decision"] == summary["offer_model"]["decision"]


def test_a_dry_run_reports_but_writes_no_file_and_no_row(world_env):
    done = run_cli("retrain", "--dry-run", "--json", "--quiet", env=world_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["decision"] == "dry_run" and summary["would"] == "promoted" and summary["new"]["version"] is None
    models = Path(world_env["RETENTION_DESK_MODEL_DIR"])
    assert not models.exists() or not any(models.iterdir())
    assert _rows(world_env) == {}
    assert _nightly_runs(world_env) == []


def test_force_and_horizon_options_reach_the_summary(world_env):
    assert run_cli("retrain", "--quiet", env=world_env).returncode == 0
    done = run_cli("retrain", "--force", "--horizon-days", "60", "--tolerance", "0", "--json", "--quiet", env=world_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["forced"] is True and summary["decision"] == "promoted"
    assert summary["label_horizon_days"] == 60 and summary["tolerance"]["max_worse_by"] == 0


def test_a_second_run_while_one_holds_the_lock_exits_3_with_a_sentence(world_env):
    with exclusive_lock(world_env["RETENTION_DESK_DATABASE_URL"], "retrain"):
        done = run_cli("retrain", "--quiet", env=world_env)
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Another retrain is running" in lines[0] and "Traceback" not in done.stderr
    assert _rows(world_env) == {}


def _kill_at(env: dict[str, str], *, after_seconds: float | None = None, on_line: str | None = None) -> None:
    process = subprocess.Popen(command("retrain"), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if on_line is not None:
        for raw in process.stderr:
            if on_line in raw.decode(errors="replace"):
                break
    else:
        time.sleep(after_seconds)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()
    process.stderr.close()


@pytest.mark.parametrize(
    "moment",
    [{"after_seconds": 0.5}, {"after_seconds": 1.5}, {"on_line": "Choosing the estimator"}, {"on_line": "Writing"}],
    ids=["at-0.5s", "at-1.5s", "while-fitting", "while-writing"],
)
def test_kill_9_during_retrain_leaves_the_champion_serving_and_the_next_run_succeeds(world_env, moment):
    first = run_cli("retrain", "--quiet", "--json", env=world_env)
    assert first.returncode == 0, first.stderr
    champion = json.loads(first.stdout)["new"]["version"]

    _kill_at(world_env, **moment)

    settings = _settings(world_env)
    with session_scope(settings.database_url) as session:
        outcome = load_serving_model(session=session, settings=settings)
    assert outcome.model is not None and not outcome.notes
    statuses = _rows(world_env)
    # Either the killed run never registered its model, or it finished registering it whole.
    assert statuses[champion] == "champion" or list(statuses.values()).count("champion") == 1
    assert outcome.model.version == next(v for v, s in statuses.items() if s == "champion")

    again = run_cli("retrain", "--quiet", env=world_env)
    assert again.returncode == 0, again.stderr
    leftovers = [p.name for p in Path(world_env["RETENTION_DESK_MODEL_DIR"]).glob(".*.tmp")]
    assert leftovers == []


HOLD_LOCK = """
import sys, time
from retention_desk.storage.locks import LockBusy, exclusive_lock
with exclusive_lock(sys.argv[1], "retrain"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_of_a_killed_process_is_freed_on_both_databases(db_url: str):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy), exclusive_lock(db_url, "retrain"):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        holder.stdout.close()
    for _ in range(20):  # the server notices the closed connection within moments
        try:
            with exclusive_lock(db_url, "retrain"):
                return
        except LockBusy:
            time.sleep(0.05)
    raise AssertionError("the killed holder's lock was never freed")
