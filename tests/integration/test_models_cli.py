"""``retention-desk models``: list, promote (and roll back), evaluate; real processes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retention_desk.services.audit import list_events
from retention_desk.storage.db import session_scope
from tests.integration.cli_world import cli_env, copy_world, run_cli, seed_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A world with two trained versions (the second promoted): copied per test."""
    folder = tmp_path_factory.mktemp("models-cli-template")
    seed_template(folder)
    env = cli_env(folder)
    for _ in range(2):
        assert run_cli("retrain", "--quiet", env=env).returncode == 0
    return folder, env


@pytest.fixture()
def env(two_models, tmp_path: Path) -> dict[str, str]:
    import shutil

    folder, _ = two_models
    shutil.copytree(folder / "models", tmp_path / "world" / "models")
    return copy_world(folder / "desk.sqlite3", tmp_path / "world")


def _listed(env: dict[str, str]) -> list[dict]:
    done = run_cli("models", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_models_list_shows_every_version_with_status_metrics_and_hash(env):
    versions = _listed(env)
    assert [v["status"] for v in versions] == ["champion", "retired"]
    for v in versions:
        assert v["estimator"] and v["roc_auc"] and v["ece"] is not None and v["rows"] > 0
        assert len(v["sha256"]) == 64 and v["refused"] is None
    table = run_cli("models", "list", env=env)
    assert versions[0]["version"] in table.stdout and versions[0]["sha256"][:12] in table.stdout


def test_promote_rolls_back_to_the_retired_version_and_is_audited(env):
    champion, retired = (v["version"] for v in _listed(env))
    done = run_cli("models", "promote", retired, env=env)
    assert done.returncode == 0, done.stderr
    assert f"Promoted model {retired} (was retired)" in done.stdout and champion in done.stdout
    assert {v["version"]: v["status"] for v in _listed(env)} == {retired: "champion", champion: "retired"}
    with session_scope(env["RETENTION_DESK_DATABASE_URL"]) as session:
        event = list_events(session=session, action="model_promoted")[0]
        assert (event.actor_name, event.entity_id) == ("cli", retired)


def test_promote_refuses_an_unknown_version_and_a_tampered_one_in_one_sentence(env):
    unknown = run_cli("models", "promote", "no-such-version", env=env)
    assert unknown.returncode == 2 and "no-such-version" in unknown.stderr and "Traceback" not in unknown.stderr

    champion, retired = (v["version"] for v in _listed(env))
    Path(env["RETENTION_DESK_MODEL_DIR"], f"churn-{retired}.joblib").write_bytes(b"not the model")
    with session_scope(env["RETENTION_DESK_DATABASE_URL"]) as session:
        from sqlalchemy import update

        from retention_desk.storage.tables import ModelVersion

        session.execute(update(ModelVersion).where(ModelVersion.version == retired).values(artifact=b"nor this"))
    tampered = run_cli("models", "promote", retired, env=env)
    assert tampered.returncode == 2 and "sha256" in tampered.stderr and "Traceback" not in tampered.stderr
    listed = {v["version"]: v for v in _listed(env)}
    assert listed[champion]["status"] == "champion" and "sha256" in listed[retired]["refused"]


def test_models_evaluate_cross_validates_every_candidate_and_the_choice(env):
    done = run_cli("models", "evaluate", "--cv", "3", "--json", "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["folds"] == 3 and len(report["chosen_in_each_fold"]) == 3
    assert {"logistic", "hgb", "chosen"} <= report["estimators"].keys()
    # A small world (a few hundred labelled calls): every candidate beats chance, the choice clearly so.
    assert report["estimators"]["chosen"]["roc_auc"]["mean"] > 0.6
    for metrics in report["estimators"].values():
        assert metrics["roc_auc"]["mean"] > 0.5 and metrics["roc_auc"]["sd"] >= 0
        assert {"log_loss", "brier", "ece", "top_decile_lift"} <= metrics.keys()
    table = run_cli("models", "evaluate", "--cv", "3", "--quiet", env=env)
    assert "chosen in each fold" in table.stdout and "±" in table.stdout
