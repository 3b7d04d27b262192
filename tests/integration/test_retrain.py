"""The nightly retrain learns from logged calls, compares with the champion on the same hold-out, and says why."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, select

from retention_desk.config import Settings
from retention_desk.ml import registry
from retention_desk.ml.features import build_features
from retention_desk.ml.train import predict_churn
from retention_desk.services import training
from retention_desk.services.scoring import model_status, score_account
from retention_desk.services.training import TrainingError, has_champion, retrain_churn_model
from retention_desk.storage.db import session_scope
from retention_desk.storage.tables import Account, ModelVersion
from retention_desk.storage.training_data import load_account_snapshots
from retention_desk.storage.types import utcnow
from tests.integration.churn_world import insert_call_world


def test_retraining_the_world_again_promotes_or_keeps_with_a_reason(world_settings: Settings):
    result = retrain_churn_model(settings=world_settings, progress=False)
    summary = json.loads(json.dumps(result.summary(), default=str))

    assert summary["decision"] in {"promoted", "kept"} and summary["reason"]
    assert summary["champion"] is not None
    new, old = summary["new_model"]["metrics"], summary["champion"]["metrics"]
    assert new["n"] == old["n"] == summary["rows"]["holdout"] > 0
    assert {"roc_auc", "log_loss", "brier", "ece"} <= new.keys()
    said = result.describe()
    assert ("Promoted" in said if result.decision == "promoted" else "Kept" in said) and result.reason in said
    assert has_champion(settings=world_settings)


def test_the_world_s_first_model_is_ready_and_carries_its_hold_out_metrics(world_settings: Settings):
    registry.clear_serving_cache()
    with session_scope(world_settings.database_url) as session:
        status = model_status(session=session, settings=world_settings)
        assert status.ready, status.message
        outcome = registry.serving_model(session=session, settings=world_settings)
    assert {"roc_auc", "log_loss", "brier", "ece", "top_decile_lift"} <= outcome.model.metrics.keys()


def test_a_month_to_month_contract_raises_the_risk_against_a_two_year_one(world_settings: Settings):
    now = utcnow()
    with session_scope(world_settings.database_url) as session:
        model = registry.serving_model(session=session, settings=world_settings).model
        ids = session.exec(select(Account.id).where(Account.status == "active").limit(200)).all()
        snapshots = list(load_account_snapshots(session, ids).values())
    flexible = [replace(s, contract_type="month_to_month", contract_end=None) for s in snapshots]
    bound = [replace(s, contract_type="two_year", contract_end=(now + timedelta(days=540)).date()) for s in snapshots]
    p_flexible = predict_churn(
        model.pipeline, [build_features(s, now) for s in flexible], model.numeric, model.categorical
    )
    p_bound = predict_churn(model.pipeline, [build_features(s, now) for s in bound], model.numeric, model.categorical)
    assert p_flexible.mean() > p_bound.mean()
    assert np.mean(p_flexible >= p_bound) > 0.8


def test_scoring_an_account_gives_a_probability_band_and_version(world_settings: Settings):
    with session_scope(world_settings.database_url) as session:
        account_id = session.exec(select(Account.id).order_by(Account.id)).first()
        score = score_account(session=session, settings=world_settings, account_id=account_id)
    assert score is not None and 0.0 <= score.probability <= 1.0
    assert score.band in {"low", "medium", "high"} and score.model_version


def test_too_few_calls_with_a_known_outcome_is_a_clear_training_error(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=40)
    with pytest.raises(TrainingError, match="at least 200"):
        retrain_churn_model(settings=settings, progress=False)
    assert not has_champion(settings=settings)


def test_a_save_counts_only_if_the_account_is_still_there_after_the_horizon(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=500)
    first = retrain_churn_model(settings=settings, progress=False)
    second = retrain_churn_model(settings=settings, progress=False)

    assert first.decision == "promoted" and first.champion_version is None
    assert second.champion_version == first.new_version
    assert second.decision == "promoted"  # identical data: the same log loss is within the tolerance
    assert 0.15 < first.new_metrics["positive_rate"] < 0.5
    assert has_champion(settings=settings)


def test_the_trained_model_scores_a_stored_account(session: Session, db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    retrain_churn_model(settings=settings, progress=False)
    registry.clear_serving_cache()
    account_id = session.exec(select(Account.id).order_by(Account.id)).first()
    score = score_account(session=session, settings=settings, account_id=account_id)
    assert score is not None and score.band in {"low", "medium", "high"}


def test_a_new_model_worse_than_the_tolerance_is_kept_as_a_challenger(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    insert_call_world(db_url, accounts=300)
    first = retrain_churn_model(settings=settings, progress=False)
    monkeypatch.setattr(training, "LOG_LOSS_TOLERANCE", -1.0)  # demand an impossible improvement
    second = retrain_churn_model(settings=settings, progress=False)

    assert second.decision == "kept" and "challenger" in second.reason
    assert second.summary()["serving_version"] == first.new_version
    with session_scope(db_url) as session:
        statuses = dict(session.exec(select(ModelVersion.version, ModelVersion.status)).all())
    assert statuses == {first.new_version: "champion", second.new_version: "challenger"}
