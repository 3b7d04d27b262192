"""The nightly retrain: learn from logged outcomes, compare with the serving model on the same hold-out,
promote only if not worse, and never leave the desk without a working model."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from retention_desk.config import ConfigError, Settings
from retention_desk.domain.progress import SILENT, Progress
from retention_desk.ml.evaluate import evaluate_probabilities
from retention_desk.ml.features import Feature, build_features
from retention_desk.ml.labels import labelled_examples
from retention_desk.ml.registry import load_serving_model, remove_stale_temp_files, save_model_version
from retention_desk.ml.selection import CrossValidation, cross_validate
from retention_desk.ml.train import TrainedModel, predict_churn, train_churn_pipeline
from retention_desk.services.audit import record_event
from retention_desk.services.models.offer_training import OfferRetrainResult, retrain_offer_model
from retention_desk.storage.db import session_scope
from retention_desk.storage.locks import LockBusy, exclusive_lock
from retention_desk.storage.model_versions import CHALLENGER, CHAMPION
from retention_desk.storage.training_data import iter_training_records, plan_training_set

__all__ = [
    "LockBusy",
    "OfferRetrainResult",
    "RetrainResult",
    "TrainingError",
    "evaluate_candidates",
    "retrain_churn_model",
    "retrain_offer_model",
    "run_nightly",
]

LABEL_HORIZON_DAYS = 90
HORIZON_ENV = "RETENTION_DESK_LABEL_HORIZON_DAYS"
MIN_LABELLED_ROWS = 200
MIN_PER_CLASS = 20
# A new model replaces the champion unless its hold-out log loss is worse by more than this (absolute).
LOG_LOSS_TOLERANCE = 0.005
LOCK_NAME = "retrain"
PROGRESS_EVERY = 500  # rows between progress reports while building features


NIGHTLY_ACTION = "nightly_run"  # the audit action of one run of the nightly job


class TrainingError(ValueError):
    """Training cannot run on the data there is; the message is one sentence for the operator."""


def label_horizon_days(value: int | None = None) -> int:
    """The label horizon: the argument, else ``RETENTION_DESK_LABEL_HORIZON_DAYS``, else 90 days."""
    if value is None:
        raw = os.environ.get(HORIZON_ENV, "").strip()
        if not raw:
            return LABEL_HORIZON_DAYS
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{HORIZON_ENV} must be a whole number of days, not {raw!r}.") from None
    if not 1 <= value <= 3650:
        raise ConfigError(f"The label horizon must be between 1 and 3650 days, not {value}.")
    return value


@dataclass
class RetrainResult:
    new_version: str | None  # None on a dry run: nothing was stored
    new_metrics: dict[str, Any]
    champion_version: str | None
    champion_metrics: dict[str, Any] | None
    decision: str  # promoted | kept | dry_run
    would: str  # promoted | kept: the decision a real run makes (equals ``decision`` unless dry run)
    reason: str
    estimator: str
    trained: TrainedModel
    rows_calls: int
    rows_imported: int
    label_horizon_days: int
    tolerance: float
    forced: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def rows_train(self) -> int:
        return self.trained.rows_train

    @property
    def rows_holdout(self) -> int:
        return self.trained.rows_holdout

    def summary(self) -> dict[str, Any]:
        """Machine-readable: both models' metrics on the same hold-out, the decision and the data."""
        t = self.trained
        serving = self.new_version if self.decision == "promoted" else self.champion_version
        return {
            "decision": self.decision,
            "would": self.would,
            "reason": self.reason,
            "forced": self.forced,
            "new": {
                "version": self.new_version,
                "estimator": self.estimator,
                "candidate": t.candidate,
                "metrics": self.new_metrics,
            },
            "champion": (
                {"version": self.champion_version, "metrics": self.champion_metrics} if self.champion_version else None
            ),
            "serving_version": serving,
            "holdout": {
                "rows": t.rows_holdout,
                "first_call": _iso(t.holdout_window[0]),
                "last_call": _iso(t.holdout_window[1]),
                "split": "newest 20% of calls by call time; seeded stratified 20% of imported labels",
            },
            "training_window": {"first_call": _iso(t.train_window[0]), "last_call": _iso(t.train_window[1])},
            "label_horizon_days": self.label_horizon_days,
            "rows": {
                "train": t.rows_train,
                "holdout": t.rows_holdout,
                "calls": self.rows_calls,
                "imported_labels": self.rows_imported,
            },
            "selection": t.selection,
            "tolerance": {"metric": "log_loss", "max_worse_by": self.tolerance},
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
        }

    def describe(self) -> str:
        t, m = self.trained, self.new_metrics
        window = ""
        if t.window_start and t.window_end:
            window = f" ({t.window_start:%Y-%m-%d} to {t.window_end:%Y-%m-%d})"
        name = self.new_version or "(dry run, not stored)"
        sources = [f"{self.rows_calls} calls{window}"] if self.rows_calls else []
        sources += [f"{self.rows_imported} imported labels"] if self.rows_imported else []
        text = (
            f"Trained churn model {name} ({self.estimator}, chosen by validation log loss) on "
            f"{' and '.join(sources)}, label horizon {self.label_horizon_days} days; "
            f"hold-out of {t.rows_holdout}: {_metrics_line(m)}. "
        )
        if self.champion_metrics is not None:
            text += f"Champion {self.champion_version} on the same hold-out: {_metrics_line(self.champion_metrics)}. "
        if self.decision == "dry_run":
            verb = "Dry run, nothing written; a real run would have " + (
                "promoted it" if self.would == "promoted" else "kept the champion"
            )
        elif self.decision == "promoted":
            verb = "Promoted it to champion"
        else:
            verb = f"Kept champion {self.champion_version}"
        return text + f"{verb}: {self.reason}" + "".join(f" {note}" for note in self.notes)


def _metrics_line(m: dict[str, Any]) -> str:
    return (
        f"AUC {_fmt(m.get('roc_auc'))}, log loss {_fmt(m.get('log_loss'))}, Brier {_fmt(m.get('brier'))}, "
        f"ECE {_fmt(m.get('ece'))}, top-decile lift {_fmt(m.get('top_decile_lift'))}"
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def has_champion(*, settings: Settings) -> bool:
    """True when a champion (or an earlier one standing in) verifies and loads, i.e. the desk can score."""
    with session_scope(settings.database_url) as session:
        return load_serving_model(session=session, settings=settings).model is not None


def run_nightly(
    *,
    settings: Settings,
    progress: Progress = SILENT,
    horizon_days: int | None = None,
    tolerance: float = LOG_LOSS_TOLERANCE,
    force: bool = False,
    dry_run: bool = False,
) -> tuple[RetrainResult, OfferRetrainResult]:
    """The nightly job: the churn model, then the offer model on the same horizon (it judges itself with the new
    churn risks). Unless a dry run, one audit row says what the run did or why it failed: the registry only holds
    runs that trained, and the model page shows the last run whatever it did."""
    try:
        churn = retrain_churn_model(
            settings=settings,
            progress=progress,
            horizon_days=horizon_days,
            tolerance=tolerance,
            force=force,
            dry_run=dry_run,
        )
        offer = retrain_offer_model(
            settings=settings, progress=progress, horizon_days=churn.label_horizon_days, force=force, dry_run=dry_run
        )
    except TrainingError as exc:
        if not dry_run:
            _record_run(settings, {"outcome": "failed", "error": str(exc)}, f"failed: {exc}")
        raise
    if not dry_run:
        after = {"outcome": "finished", "churn": _brief(churn.summary()), "offer_model": _brief(offer.summary())}
        detail = f"churn model {churn.decision}; offer model {offer.decision}"
        _record_run(settings, after, detail)
    return churn, offer


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    version = (summary["new"] or {}).get("version")
    return {"decision": summary["decision"], "reason": summary["reason"], "version": version}


def _record_run(settings: Settings, after: dict[str, Any], detail: str) -> None:
    with session_scope(settings.database_url) as session:
        record_event(
            session=session,
            action=NIGHTLY_ACTION,
            actor_name="nightly job",
            entity_type=NIGHTLY_ACTION,
            after=after,
            detail=detail,
        )


def retrain_churn_model(
    *,
    settings: Settings,
    progress: Progress = SILENT,
    horizon_days: int | None = None,
    tolerance: float = LOG_LOSS_TOLERANCE,
    force: bool = False,
    dry_run: bool = False,
) -> RetrainResult:
    """Train on every call old enough to know its outcome, compare with the champion, promote or keep.

    Holds the retrain lock (``LockBusy`` if another run holds it) except on a dry run, which writes nothing.
    """
    horizon = label_horizon_days(horizon_days)
    if dry_run:
        return _retrain(settings, progress, horizon, tolerance, force, dry_run=True)
    with exclusive_lock(settings.database_url, LOCK_NAME):
        remove_stale_temp_files(settings)
        return _retrain(settings, progress, horizon, tolerance, force, dry_run=False)


def _retrain(
    settings: Settings, progress: Progress, horizon: int, tolerance: float, force: bool, *, dry_run: bool
) -> RetrainResult:
    started = time.monotonic()
    data = load_training_rows(settings=settings, progress=progress, horizon_days=horizon)
    _check_enough(data.y, horizon)
    progress.say(f"Choosing the estimator and fitting it on {len(data.y)} labelled rows ...")
    trained = train_churn_pipeline(data.rows, data.y, data.times)
    with session_scope(settings.database_url) as session:
        serving = load_serving_model(session=session, settings=settings)
        champion_metrics = None
        if serving.model is not None:
            champion = serving.model
            progress.say(f"Scoring champion {champion.version} on the same hold-out ...")
            p = predict_churn(champion.pipeline, trained.holdout_rows, champion.numeric, champion.categorical)
            champion_metrics = evaluate_probabilities(trained.holdout_y, p)
        would, reason = decide(trained.metrics, champion_metrics, tolerance=tolerance, force=force)
        version = None
        if not dry_run:
            progress.say("Writing the model artifact and its registry row ...")
            row = save_model_version(
                session=session,
                settings=settings,
                trained=trained,
                status=CHAMPION if would == "promoted" else CHALLENGER,
                label_horizon_days=horizon,
            )
            version = row.version
    return RetrainResult(
        new_version=version,
        new_metrics=trained.metrics,
        champion_version=serving.model.version if serving.model else None,
        champion_metrics=champion_metrics,
        decision="dry_run" if dry_run else would,
        would=would,
        reason=reason,
        estimator=trained.estimator,
        trained=trained,
        rows_calls=data.n_calls,
        rows_imported=data.n_imported,
        label_horizon_days=horizon,
        tolerance=tolerance,
        forced=force,
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


def load_training_rows(
    *, settings: Settings, progress: Progress = SILENT, horizon_days: int = LABEL_HORIZON_DAYS
) -> TrainingRows:
    """Every call old enough to know its outcome, plus imported labels, as features through the one module."""
    rows: list[dict[str, Feature]] = []
    labels: list[int] = []
    times: list[datetime | None] = []
    with session_scope(settings.database_url) as session:
        plan = plan_training_set(session, label_horizon_days=horizon_days)
        examples = labelled_examples(iter_training_records(session, plan), plan.label_horizon_days)
        progress.stage("features", total=plan.total, unit=" rows")
        for example in examples:
            rows.append(build_features(example.snapshot, example.as_of))
            labels.append(int(example.churned))
            times.append(example.as_of if example.dated else None)
            if len(rows) % PROGRESS_EVERY == 0:
                progress.advance(PROGRESS_EVERY)
        progress.advance(len(rows) % PROGRESS_EVERY)
        progress.done()
    n_imported = sum(1 for t in times if t is None)
    return TrainingRows(rows, np.asarray(labels, dtype=int), times, len(times) - n_imported, n_imported)


def evaluate_candidates(
    *, settings: Settings, folds: int = 5, progress: Progress = SILENT, horizon_days: int | None = None
) -> CrossValidation:
    """Seeded stratified k-fold CV of every candidate estimator (and of the choice) on the current training data."""
    horizon = label_horizon_days(horizon_days)
    data = load_training_rows(settings=settings, progress=progress, horizon_days=horizon)
    _check_enough(data.y, horizon)
    if np.bincount(data.y, minlength=2).min() < folds:
        raise TrainingError(f"Cross-validation with {folds} folds needs at least {folds} rows of each outcome.")
    return cross_validate(data.rows, data.y, data.times, folds=folds, progress=progress)


def _check_enough(y: np.ndarray, horizon: int) -> None:
    counts = np.bincount(y, minlength=2) if len(y) else np.zeros(2, dtype=int)
    if len(y) < MIN_LABELLED_ROWS:
        raise TrainingError(
            f"Only {len(y)} calls have a known outcome ({horizon} days after the call); "
            f"training needs at least {MIN_LABELLED_ROWS}."
        )
    if counts.min() < MIN_PER_CLASS:
        raise TrainingError(
            f"The {len(y)} labelled calls hold {counts[1]} that left and {counts[0]} that stayed; "
            f"training needs at least {MIN_PER_CLASS} of each."
        )


def decide(
    new: dict[str, Any], champion: dict[str, Any] | None, *, tolerance: float, force: bool = False
) -> tuple[str, str]:
    """("promoted" | "kept", why): promote unless the new hold-out log loss is worse by more than ``tolerance``."""
    if champion is None:
        return "promoted", "there was no working champion."
    new_loss, old_loss = new["log_loss"], champion["log_loss"]
    if new_loss <= old_loss + tolerance:
        return "promoted", (
            f"its hold-out log loss {new_loss:.4f} is within {tolerance} of (or better than) "
            f"the champion's {old_loss:.4f} on the same rows."
        )
    if force:
        return "promoted", (
            f"--force given: promoted although its hold-out log loss {new_loss:.4f} is worse than the champion's "
            f"{old_loss:.4f} by more than {tolerance}."
        )
    return "kept", (
        f"the new model's hold-out log loss {new_loss:.4f} is worse than the champion's {old_loss:.4f} "
        f"by more than {tolerance}; the new model is stored as a challenger."
    )
