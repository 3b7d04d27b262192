"""The nightly retrain learns from logged calls, compares with the champion on the same hold-out, and says why."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlmodel import Session, select

from retention_desk.config import ConfigError, Settings
from retention_desk.domain.clock import utcnow
from retention_desk.ml import registry
from retention_desk.ml.evaluate import expected_calibration_error
from retention_desk.ml.features import build_features
from retention_desk.ml.fitting import fit_candidate
from retention_desk.ml.labels import churn_label_of
from retention_desk.ml.train import predict_churn
from retention_desk.services.importing.accounts import import_accounts
from retention_desk.services.models import nightly as training
from retention_desk.services.models.nightly import (
    LockBusy,
    TrainingError,
    evaluate_candidates,
    has_champion,
    retrain_churn_model,
)
from retention_desk.services.models.risk import model_status, score_account
from retention_desk.services.seeding import seed_demo_world
from retention_desk.storage.db import session_scope
from retention_desk.storage.locks import exclusive_lock
from retention_desk.storage.snapshots import BillItem
from retention_desk.storage.tables import Account, ModelVersion
from retention_desk.storage.training_data import load_account_snapshots
from tests.integration.churn_world import insert_call_world
from tests.shared_data import ORANGE_20, ORANGE_80, ORANGE_MAPPING, needs_shared_data


def test_retraining_the_world_again_promotes_or_keeps_with_a_reason(world_settings: Settings):
    result = retrain_churn_model(settings=world_settings)
    summary = json.loads(json.dumps(result.summary(), default=str))

    assert summary["decision"] in {"promoted", "kept"} and summary["reason"]
    assert summary["champion"] is not None
    new, old = summary["new"]["metrics"], summary["champion"]["metrics"]
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
    # The shared world has ~230 labelled calls: the selection may serve a boosting model that never splits on the
    # contract, so the direction is checked on the additive candidate fitted to the same rows, which uses every feature.
    data = training.load_training_rows(settings=world_settings)
    pipeline, numeric, categorical = fit_candidate(data.rows, data.y, "logistic")
    now = utcnow()
    with session_scope(world_settings.database_url) as session:
        ids = session.exec(select(Account.id).where(Account.status == "active").limit(200)).all()
        snapshots = list(load_account_snapshots(session, ids).values())
    flexible = [replace(s, contract_type="month_to_month", contract_end=None) for s in snapshots]
    bound = [replace(s, contract_type="two_year", contract_end=(now + timedelta(days=540)).date()) for s in snapshots]
    p_flexible = predict_churn(pipeline, [build_features(s, now) for s in flexible], numeric, categorical)
    p_bound = predict_churn(pipeline, [build_features(s, now) for s in bound], numeric, categorical)
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
        retrain_churn_model(settings=settings)
    assert not has_champion(settings=settings)


def test_a_save_counts_only_if_the_account_is_still_there_after_the_horizon(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=500)
    first = retrain_churn_model(settings=settings)
    second = retrain_churn_model(settings=settings)

    assert first.decision == "promoted" and first.champion_version is None
    assert second.champion_version == first.new_version
    assert second.decision == "promoted"  # identical data: the same log loss is within the tolerance
    assert 0.15 < first.new_metrics["positive_rate"] < 0.5
    assert has_champion(settings=settings)


def test_the_trained_model_scores_a_stored_account(session: Session, db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    retrain_churn_model(settings=settings)
    registry.clear_serving_cache()
    account_id = session.exec(select(Account.id).order_by(Account.id)).first()
    score = score_account(session=session, settings=settings, account_id=account_id)
    assert score is not None and score.band in {"low", "medium", "high"}


def test_a_new_model_worse_than_the_tolerance_is_kept_as_a_challenger(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    first = retrain_churn_model(settings=settings)
    second = retrain_churn_model(settings=settings, tolerance=-1.0)  # an impossible improvement

    assert second.decision == "kept" and "challenger" in second.reason
    assert second.summary()["serving_version"] == first.new_version
    with session_scope(db_url) as session:
        statuses = dict(session.exec(select(ModelVersion.version, ModelVersion.status)).all())
    assert statuses == {first.new_version: "champion", second.new_version: "challenger"}


def test_the_summary_carries_the_windows_horizon_rows_and_the_estimator_comparison(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=400)
    summary = retrain_churn_model(settings=settings).summary()

    assert {"decision", "reason", "new", "champion", "holdout", "training_window", "label_horizon_days"} <= set(summary)
    assert {"rows", "selection", "tolerance", "serving_version"} <= set(summary)
    assert summary["training_window"]["last_call"] <= summary["holdout"]["first_call"]
    selection = summary["selection"]
    assert selection["metric"] == "log_loss" and selection["chosen"] == summary["new"]["candidate"]
    assert {"logistic", "hgb"} <= selection["candidates"].keys()
    assert selection["validation"]["rows_fit"] + selection["validation"]["rows_validation"] == summary["rows"]["train"]
    with session_scope(db_url) as session:
        row = session.exec(select(ModelVersion)).one()
        assert row.metrics["selection"]["chosen"] == selection["chosen"]
        assert row.metrics["training_window"] == summary["training_window"]


def test_a_dry_run_trains_and_compares_but_stores_nothing(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    result = retrain_churn_model(settings=settings, dry_run=True)

    assert result.decision == "dry_run" and result.would == "promoted" and result.new_version is None
    assert "Dry run" in result.describe()
    with session_scope(db_url) as session:
        assert session.exec(select(ModelVersion)).all() == []
    assert not settings.model_dir.exists() or not any(settings.model_dir.iterdir())


def test_force_promotes_a_model_the_tolerance_would_keep(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    first = retrain_churn_model(settings=settings)
    forced = retrain_churn_model(settings=settings, tolerance=-1.0, force=True)

    assert forced.decision == "promoted" and "--force" in forced.reason and forced.summary()["forced"]
    with session_scope(db_url) as session:
        statuses = dict(session.exec(select(ModelVersion.version, ModelVersion.status)).all())
    assert statuses == {first.new_version: "retired", forced.new_version: "champion"}


def test_the_label_horizon_comes_from_the_argument_or_the_environment(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    insert_call_world(db_url, accounts=400)
    monkeypatch.setenv(training.HORIZON_ENV, "45")
    from_env = retrain_churn_model(settings=settings, dry_run=True)
    given = retrain_churn_model(settings=settings, horizon_days=120)

    assert from_env.label_horizon_days == 45 and given.label_horizon_days == 120
    with session_scope(db_url) as session:
        assert session.exec(select(ModelVersion.label_horizon_days)).one() == 120
    monkeypatch.setenv(training.HORIZON_ENV, "soon")
    with pytest.raises(ConfigError, match=training.HORIZON_ENV):
        training.label_horizon_days()


def test_a_running_retrain_holds_the_lock_and_a_second_one_is_refused(db_url: str, settings: Settings):
    insert_call_world(db_url, accounts=300)
    with exclusive_lock(db_url, training.LOCK_NAME), pytest.raises(LockBusy, match="Another retrain is running"):
        retrain_churn_model(settings=settings)
    assert retrain_churn_model(settings=settings).decision == "promoted"


def _bill(due: date, paid: date | None) -> BillItem:
    return BillItem(period_start=due - timedelta(days=30), amount=499.0, due_on=due, paid_on=paid)


CALL = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
NINETY = timedelta(days=90)


@pytest.mark.parametrize(
    ("left_at", "bills", "label"),
    [
        (None, [], False),
        (None, [_bill(date(2026, 3, 15), date(2026, 3, 14))], False),
        (CALL + timedelta(days=30), [], True),
        (CALL + timedelta(days=120), [], False),
        (CALL - timedelta(days=10), [], None),
        (None, [_bill(date(2026, 4, 15), None)], True),
        (None, [_bill(date(2026, 4, 15), date(2026, 6, 20))], True),
        (None, [_bill(date(2026, 4, 15), date(2026, 5, 20))], False),
        (None, [_bill(date(2026, 7, 1), None)], False),
        (None, [_bill(date(2026, 2, 15), None)], False),
    ],
    ids=[
        "active-and-paid",
        "paid-on-time",
        "cancelled-within",
        "cancelled-after",
        "gone-before-the-call",
        "bill-in-window-never-paid",
        "bill-in-window-paid-after-window",
        "bill-in-window-paid-late-inside-window",
        "bill-due-after-window",
        "bill-due-before-the-call",
    ],
)
def test_a_call_is_a_save_only_if_the_account_is_active_and_paying_after_the_horizon(left_at, bills, label):
    assert churn_label_of(left_at, bills, CALL, NINETY) is label


@pytest.mark.slow
@needs_shared_data
def test_orange_telecom_accounts_choose_gradient_boosting_with_cv_auc_of_at_least_0_90(
    db_url: str, settings: Settings, backend: str
):
    if backend != "sqlite":
        pytest.skip("measured once, on SQLite")
    for path in (ORANGE_80, ORANGE_20):  # imported exactly as an operator would, with the committed mapping
        import_accounts(url=db_url, path=path, mapping=ORANGE_MAPPING)
    report = evaluate_candidates(settings=settings, folds=5)
    summary = report.summary()

    assert all(name.startswith("hgb") for name in report.chosen_in_fold), report.chosen_in_fold
    assert summary["chosen"]["roc_auc"]["mean"] >= 0.90
    assert summary["hgb"]["roc_auc"]["mean"] > summary["logistic"]["roc_auc"]["mean"] + 0.05


@pytest.mark.slow
def test_the_demo_world_s_chosen_model_is_calibrated_on_its_hold_out(db_url: str, settings: Settings, backend: str):
    if backend != "sqlite":
        pytest.skip("a 20,000-account world is measured once, on SQLite")
    # The demo's own world (seed 7, 20,000 accounts) on a pinned date; the acceptance bound is ECE < 0.05. Its ~630
    # hold-out rows make the binned ECE noisy (a perfectly calibrated model with the same scores shows 0.025-0.058,
    # docs/churn-model.md), so the test also checks the model is no worse than such a model is 95 times in 100.
    seed_demo_world(url=db_url, accounts=20_000, seed=7, as_of=date(2026, 11, 26))
    result = retrain_churn_model(settings=settings)
    trained = result.trained
    p = predict_churn(trained.pipeline, trained.holdout_rows, trained.numeric, trained.categorical)
    rng = np.random.default_rng(7)
    calibrated = [expected_calibration_error(rng.random(len(p)) < p, p) for _ in range(1000)]

    assert result.new_metrics["ece"] == pytest.approx(expected_calibration_error(trained.holdout_y, p), abs=1e-6)
    assert result.new_metrics["ece"] < 0.05
    assert result.new_metrics["ece"] < np.quantile(calibrated, 0.95)
    assert result.new_metrics["roc_auc"] > 0.7
