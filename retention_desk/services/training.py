"""The nightly retrain: learn from logged outcomes, compare with the serving model on the same hold-out,
promote only if not worse, and never leave the desk without a working model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from tqdm import tqdm

from retention_desk.config import Settings
from retention_desk.ml.evaluate import evaluate_probabilities
from retention_desk.ml.features import Feature, build_features
from retention_desk.ml.registry import load_serving_model, save_model_version
from retention_desk.ml.train import TrainedModel, predict_churn, train_churn_pipeline
from retention_desk.storage.db import session_scope
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION
from retention_desk.storage.training_data import iter_training_examples, plan_training_set

LABEL_HORIZON_DAYS = 90
MIN_LABELLED_ROWS = 200
MIN_PER_CLASS = 20
# A new model replaces the champion unless its hold-out log loss is worse by more than this (absolute).
LOG_LOSS_TOLERANCE = 0.002


class TrainingError(ValueError):
    """Training cannot run on the data there is; the message is one sentence for the operator."""


@dataclass
class RetrainResult:
    new_version: str
    new_metrics: dict[str, Any]
    champion_version: str | None
    champion_metrics: dict[str, Any] | None
    decision: str  # promoted | kept
    reason: str
    estimator: str
    data_window_start: datetime | None
    data_window_end: datetime | None
    rows_train: int
    rows_holdout: int
    rows_calls: int
    rows_imported: int
    label_horizon_days: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Machine-readable: both models' metrics on the same hold-out, the decision and the data."""
        return {
            "decision": self.decision,
            "reason": self.reason,
            "new_model": {"version": self.new_version, "estimator": self.estimator, "metrics": self.new_metrics},
            "champion": (
                {"version": self.champion_version, "metrics": self.champion_metrics} if self.champion_version else None
            ),
            "serving_version": self.new_version if self.decision == "promoted" else self.champion_version,
            "data_window": {
                "start": self.data_window_start.isoformat() if self.data_window_start else None,
                "end": self.data_window_end.isoformat() if self.data_window_end else None,
            },
            "rows": {
                "train": self.rows_train,
                "holdout": self.rows_holdout,
                "calls": self.rows_calls,
                "imported_labels": self.rows_imported,
            },
            "label_horizon_days": self.label_horizon_days,
            "log_loss_tolerance": LOG_LOSS_TOLERANCE,
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
        }

    def describe(self) -> str:
        window = ""
        if self.data_window_start and self.data_window_end:
            window = f" ({self.data_window_start:%Y-%m-%d} to {self.data_window_end:%Y-%m-%d})"
        m = self.new_metrics
        text = (
            f"Trained churn model {self.new_version} ({self.estimator}) on {self.rows_calls} calls{window}"
            + (f" and {self.rows_imported} imported labels" if self.rows_imported else "")
            + f"; hold-out of {self.rows_holdout}: AUC {_fmt(m.get('roc_auc'))}, log loss {_fmt(m.get('log_loss'))}, "
            f"Brier {_fmt(m.get('brier'))}, ECE {_fmt(m.get('ece'))}. "
        )
        verb = "Promoted it to champion" if self.decision == "promoted" else f"Kept champion {self.champion_version}"
        return text + f"{verb}: {self.reason}" + "".join(f" {note}" for note in self.notes)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def has_champion(*, settings: Settings) -> bool:
    """True when a champion (or an earlier one standing in) verifies and loads, i.e. the desk can score."""
    with session_scope(settings.database_url) as session:
        return load_serving_model(session=session, settings=settings).model is not None


def retrain_churn_model(*, settings: Settings, progress: bool) -> RetrainResult:
    """Train on every call old enough to know its outcome, compare with the champion, promote or keep."""
    started = time.monotonic()
    data = load_training_rows(settings=settings, progress=progress)
    _check_enough(data.y)
    trained = train_churn_pipeline(data.rows, data.y, data.times)
    with session_scope(settings.database_url) as session:
        serving = load_serving_model(session=session, settings=settings)
        champion_metrics = None
        if serving.model is not None:
            champion = serving.model
            p = predict_churn(champion.pipeline, trained.holdout_rows, champion.numeric, champion.categorical)
            champion_metrics = evaluate_probabilities(trained.holdout_y, p)
        decision, reason = _decide(trained, champion_metrics)
        row = save_model_version(
            session=session,
            settings=settings,
            trained=trained,
            status=CHAMPION if decision == "promoted" else CHALLENGER,
            label_horizon_days=LABEL_HORIZON_DAYS,
        )
    return RetrainResult(
        new_version=row.version,
        new_metrics=trained.metrics,
        champion_version=serving.model.version if serving.model else None,
        champion_metrics=champion_metrics,
        decision=decision,
        reason=reason,
        estimator=trained.estimator,
        data_window_start=trained.window_start,
        data_window_end=trained.window_end,
        rows_train=trained.rows_train,
        rows_holdout=trained.rows_holdout,
        rows_calls=data.n_calls,
        rows_imported=data.n_imported,
        label_horizon_days=LABEL_HORIZON_DAYS,
        seconds=time.monotonic() - started,
        notes=list(serving.notes),
    )


@dataclass
class TrainingRows:
    """Feature rows with their labels; ``times`` is the call time, None for imported labels."""

    rows: list[dict[str, Feature]]
    y: np.ndarray
    times: list[datetime | None]
    n_calls: int
    n_imported: int


def load_training_rows(*, settings: Settings, progress: bool, horizon_days: int = LABEL_HORIZON_DAYS) -> TrainingRows:
    """Every call old enough to know its outcome, plus imported labels, as features through the one module."""
    rows: list[dict[str, Feature]] = []
    labels: list[int] = []
    times: list[datetime | None] = []
    with session_scope(settings.database_url) as session:
        plan = plan_training_set(session, label_horizon_days=horizon_days)
        examples = iter_training_examples(session, plan)
        for example in tqdm(examples, total=plan.total, desc="features", unit="row", disable=not progress):
            rows.append(build_features(example.snapshot, example.as_of))
            labels.append(int(example.churned))
            times.append(example.as_of if example.dated else None)
    n_imported = sum(1 for t in times if t is None)
    return TrainingRows(rows, np.asarray(labels, dtype=int), times, len(times) - n_imported, n_imported)


def _check_enough(y: np.ndarray) -> None:
    counts = np.bincount(y, minlength=2) if len(y) else np.zeros(2, dtype=int)
    if len(y) < MIN_LABELLED_ROWS:
        raise TrainingError(
            f"Only {len(y)} calls have a known outcome ({LABEL_HORIZON_DAYS} days after the call); "
            f"training needs at least {MIN_LABELLED_ROWS}."
        )
    if counts.min() < MIN_PER_CLASS:
        raise TrainingError(
            f"The {len(y)} labelled calls hold {counts[1]} that left and {counts[0]} that stayed; "
            f"training needs at least {MIN_PER_CLASS} of each."
        )


def _decide(trained: TrainedModel, champion_metrics: dict[str, Any] | None) -> tuple[str, str]:
    if champion_metrics is None:
        return "promoted", "there was no working champion."
    new, old = trained.metrics["log_loss"], champion_metrics["log_loss"]
    if new <= old + LOG_LOSS_TOLERANCE:
        return "promoted", (
            f"its hold-out log loss {new:.4f} is within {LOG_LOSS_TOLERANCE} of (or better than) "
            f"the champion's {old:.4f} on the same rows."
        )
    return "kept", (
        f"the new model's hold-out log loss {new:.4f} is worse than the champion's {old:.4f} "
        f"by more than {LOG_LOSS_TOLERANCE}; the new model is stored as a challenger."
    )
