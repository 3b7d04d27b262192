"""The model registry serves only artifacts whose sha256 and scikit-learn version match their record."""

from __future__ import annotations

import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session

from retention_desk import create_app
from retention_desk.config import Settings
from retention_desk.ml import registry
from retention_desk.ml.registry import artifact_path, load_serving_model, save_model_version, serving_model, sha256_of
from retention_desk.ml.train import TrainedModel, predict_churn, train_churn_pipeline
from retention_desk.services.audit import list_events
from retention_desk.services.models.registry import PromotionError, list_model_versions, promote_model
from retention_desk.services.models.risk import model_status, score_account
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION
from retention_desk.storage.tables import ModelVersion
from tests.small_models import contract_driven_rows


@pytest.fixture(autouse=True)
def fresh_serving_cache():
    registry.clear_serving_cache()
    yield
    registry.clear_serving_cache()


def _trained(seed: int = 1) -> TrainedModel:
    return train_churn_pipeline(*contract_driven_rows(seed))


def _save(session: Session, settings: Settings, seed: int = 1) -> ModelVersion:
    row = save_model_version(
        session=session, settings=settings, trained=_trained(seed), status=CHAMPION, label_horizon_days=90
    )
    session.commit()
    return row


class Booby:
    """Unpickling this creates the marker file: proof that ``joblib.load`` ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _booby_bytes(tmp_path: Path) -> tuple[bytes, Path]:
    marker = tmp_path / "unpickled-marker"
    return pickle.dumps(Booby(marker)), marker


def _trap_both_copies(session: Session, settings: Settings, row: ModelVersion, tmp_path: Path) -> Path:
    """Replace the file and the shared database copy with a pickle that would create the returned marker."""
    evil, marker = _booby_bytes(tmp_path)
    artifact_path(settings, row.version).write_bytes(evil)
    row.artifact = evil
    session.add(row)
    session.commit()
    return marker


def test_a_saved_model_loads_back_and_predicts_the_same(session: Session, settings: Settings):
    trained = _trained()
    row = save_model_version(
        session=session, settings=settings, trained=trained, status=CHAMPION, label_horizon_days=90
    )
    session.commit()
    outcome = load_serving_model(session=session, settings=settings)
    assert outcome.model is not None and outcome.model.version == row.version and not outcome.notes
    rows = trained.holdout_rows
    expected = predict_churn(trained.pipeline, rows, trained.numeric, trained.categorical)
    got = predict_churn(outcome.model.pipeline, rows, outcome.model.numeric, outcome.model.categorical)
    np.testing.assert_allclose(got, expected)
    assert sha256_of(artifact_path(settings, row.version).read_bytes()) == row.sha256
    assert artifact_path(settings, row.version).with_suffix(".json").exists()


def test_a_tampered_artifact_is_refused_without_being_unpickled_and_the_previous_champion_serves(
    session: Session, settings: Settings, tmp_path: Path
):
    older = _save(session, settings, seed=1)
    newer = _save(session, settings, seed=2)
    marker = _trap_both_copies(session, settings, newer, tmp_path)

    outcome = load_serving_model(session=session, settings=settings)

    assert not marker.exists()
    assert outcome.model is not None and outcome.model.version == older.version
    assert outcome.fell_back and any(newer.version in note and "sha256" in note for note in outcome.notes)
    status = model_status(session=session, settings=settings)
    assert status.ready and status.version == older.version and newer.version in status.message


def test_a_tampered_file_is_replaced_by_the_verified_database_copy(
    session: Session, settings: Settings, tmp_path: Path
):
    row = _save(session, settings)
    evil, marker = _booby_bytes(tmp_path)
    artifact_path(settings, row.version).write_bytes(evil)

    outcome = load_serving_model(session=session, settings=settings)

    assert not marker.exists()
    assert outcome.model is not None and outcome.model.version == row.version
    assert sha256_of(artifact_path(settings, row.version).read_bytes()) == row.sha256


def test_a_healed_file_is_reported_in_readyz_and_the_audit_log_without_the_server_s_folders(
    session: Session, settings: Settings, tmp_path: Path
):
    row = _save(session, settings)
    evil, marker = _booby_bytes(tmp_path)
    artifact_path(settings, row.version).write_bytes(evil)

    response = create_app(settings).test_client().get("/readyz")

    body = response.get_json()
    assert response.status_code == 200 and body["model"] == "ok" and not marker.exists()
    assert "restored from the database copy" in body["model_note"] and "sha256" in body["model_note"]
    assert str(settings.model_dir) not in response.get_data(as_text=True)
    restored = list_events(session=session, action="model_artifact_restored")
    assert [e.entity_id for e in restored] == [row.version] and "did not match" in restored[0].detail


def test_a_node_without_the_file_restores_it_from_the_database(session: Session, settings: Settings):
    row = _save(session, settings)
    artifact_path(settings, row.version).unlink()

    outcome = load_serving_model(session=session, settings=settings)

    assert outcome.model is not None and outcome.model.version == row.version
    assert sha256_of(artifact_path(settings, row.version).read_bytes()) == row.sha256


def test_a_model_from_another_scikit_learn_version_is_refused_with_advice_to_retrain(
    session: Session, settings: Settings
):
    row = _save(session, settings)
    row.sklearn_version = "0.24.2"
    session.add(row)
    session.commit()

    status = model_status(session=session, settings=settings)

    assert not status.ready and "0.24.2" in status.message and "retrain" in status.message


def test_without_any_model_the_desk_is_not_ready_and_scores_nothing(session: Session, settings: Settings):
    status = model_status(session=session, settings=settings)
    assert not status.ready and status.version is None and "retrain" in status.message
    assert score_account(session=session, settings=settings, account_id=1) is None


def test_a_running_process_picks_up_a_newly_promoted_champion(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    first = _save(session, settings, seed=1)
    assert serving_model(session=session, settings=settings).model.version == first.version
    monkeypatch.setattr(registry, "CHAMPION_RECHECK_SECONDS", 0.0)
    second = _save(session, settings, seed=2)
    assert serving_model(session=session, settings=settings).model.version == second.version


def _champion_of(client) -> str | None:
    return client.get("/readyz").get_json()["model_version"]


def test_two_web_processes_pick_up_a_promoted_champion_without_a_restart(
    session: Session, settings: Settings, tmp_path: Path
):
    first = _save(session, settings, seed=1)
    second = save_model_version(
        session=session, settings=settings, trained=_trained(2), status=CHALLENGER, label_horizon_days=90
    )
    session.commit()
    # Two nodes: their own model folders (no files yet, restored from the database) and a short re-check.
    nodes = [replace(settings, model_dir=tmp_path / f"node-{i}", extra={"model_recheck_seconds": 0.2}) for i in (1, 2)]
    clients = [create_app(node).test_client() for node in nodes]
    assert [_champion_of(c) for c in clients] == [first.version, first.version]

    promote_model(settings=settings, version=second.version, actor_name="cli")
    time.sleep(0.3)

    assert [_champion_of(c) for c in clients] == [second.version, second.version]
    assert all(artifact_path(node, second.version).exists() for node in nodes)


def test_promote_rolls_back_to_a_retired_version_in_one_step_and_audits_it(session: Session, settings: Settings):
    older = _save(session, settings, seed=1)
    newer = _save(session, settings, seed=2)

    done = promote_model(settings=settings, version=older.version, actor_name="cli")

    assert done.was == "retired" and done.retired == [newer.version]
    listed = {v.version: v.status for v in list_model_versions(settings=settings)}
    assert listed == {older.version: "champion", newer.version: "retired"}
    event = list_events(session=session, action="model_promoted")[0]
    assert event.actor_name == "cli" and event.entity_id == older.version
    assert event.before == {"status": "retired", "champion": [newer.version]}


def test_promote_refuses_a_version_from_another_scikit_learn(session: Session, settings: Settings):
    older = _save(session, settings, seed=1)
    newer = _save(session, settings, seed=2)
    older.sklearn_version = "0.24.2"
    session.add(older)
    session.commit()

    with pytest.raises(PromotionError, match="0.24.2"):
        promote_model(settings=settings, version=older.version)
    assert {v.version: v.status for v in list_model_versions(settings=settings)}[newer.version] == "champion"


def test_a_booby_trapped_champion_runs_no_code_and_the_desk_says_why(
    session: Session, settings: Settings, tmp_path: Path
):
    older = _save(session, settings, seed=1)
    newer = _save(session, settings, seed=2)
    marker = _trap_both_copies(session, settings, newer, tmp_path)

    status = model_status(session=session, settings=settings)
    listed = {v.version: v for v in list_model_versions(settings=settings)}
    ready = create_app(settings).test_client().get("/readyz")

    assert not marker.exists()
    assert status.ready and status.version == older.version
    assert f"Refused model {newer.version}" in status.message and older.version in status.message
    assert "sha256" in listed[newer.version].refused and listed[older.version].refused is None
    assert ready.status_code == 200 and ready.get_json()["model_version"] == older.version
    assert f"Refused model {newer.version}" in ready.get_json()["model_note"]
    assert not marker.exists()


def test_a_booby_trapped_only_champion_leaves_the_desk_unready_and_readyz_says_why(
    session: Session, settings: Settings, tmp_path: Path
):
    only = _save(session, settings, seed=1)
    marker = _trap_both_copies(session, settings, only, tmp_path)

    response = create_app(settings).test_client().get("/readyz")

    assert not marker.exists()
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "unavailable"
    assert f"Refused model {only.version}" in body["model"] and "sha256" in body["model"]
    assert str(settings.model_dir) not in response.get_data(as_text=True)  # anonymous callers see no server paths
    assert not model_status(session=session, settings=settings).ready


def test_a_figure_the_hold_out_could_not_compute_is_stored_as_null_on_either_database(
    session: Session, settings: Settings
):
    trained = _trained()
    trained = replace(trained, metrics={**trained.metrics, "snips": float("nan"), "bounds": [float("inf"), 1.0]})
    row = save_model_version(
        session=session, settings=settings, trained=trained, status=CHAMPION, label_horizon_days=90
    )
    session.commit()
    session.refresh(row)
    assert row.metrics["snips"] is None and row.metrics["bounds"] == [None, 1.0]
    assert '"snips": null' in artifact_path(settings, row.version).with_suffix(".json").read_text()
