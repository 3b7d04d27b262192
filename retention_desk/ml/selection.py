"""Choosing the churn estimator by measurement, on the training rows only, and cross-validating the choice.

The hold-out that decides promotion is never looked at here: candidates are compared on a validation part of
the training rows (its newest share when the rows are dated), by log loss, a proper score that rewards
calibration as well as ranking. On a near tie the simpler candidate (earlier in ``ESTIMATORS``) wins.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from retention_desk.domain.progress import SILENT, Progress
from retention_desk.ml.evaluate import evaluate_probabilities
from retention_desk.ml.fitting import Rows, fit_candidate, predict_churn, split_holdout, take
from retention_desk.ml.pipeline import ESTIMATORS

SELECTION_METRIC = "log_loss"
VALIDATION_SHARE = 0.25
# A more complex candidate must beat the simplest by more than this validation log loss to be chosen:
# differences smaller than this are within the noise of a few hundred validation rows.
SIMPLER_MARGIN = 0.003
CV_SEED = 0
METRIC_NAMES = ("roc_auc", "log_loss", "brier", "ece", "top_decile_lift")


@dataclass
class Selection:
    """Which estimator won on the validation rows, and every candidate's figures there."""

    chosen: str
    validation: dict[str, Any]
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "metric": SELECTION_METRIC,
            "simpler_margin": SIMPLER_MARGIN,
            "validation": self.validation,
            "candidates": self.candidates,
        }


def choose_estimator(
    rows: Rows,
    y: np.ndarray,
    times: Sequence[datetime | None],
    *,
    candidates: Sequence[str] = ESTIMATORS,
    share: float = VALIDATION_SHARE,
) -> Selection:
    """Fit each candidate on the older part of the training rows and score it on the newer part."""
    y = np.asarray(y, dtype=int)
    fit_idx, val_idx = split_holdout(times, y, share=share)
    validation = {
        "rows_fit": len(fit_idx),
        "rows_validation": len(val_idx),
        "split": "newest share of the training rows by call time; seeded stratified share of undated rows",
        "share": share,
    }
    if len(candidates) == 1 or len(np.unique(y[val_idx])) < 2 or len(np.unique(y[fit_idx])) < 2:
        return Selection(candidates[0], {**validation, "note": "too few rows of each outcome to compare"})
    fit_rows, val_rows = take(rows, fit_idx), take(rows, val_idx)
    figures: dict[str, dict[str, Any]] = {}
    for name in candidates:
        started = time.perf_counter()
        pipeline, numeric, categorical = fit_candidate(fit_rows, y[fit_idx], name)
        seconds = time.perf_counter() - started
        p = predict_churn(pipeline, val_rows, numeric, categorical)
        figures[name] = {**evaluate_probabilities(y[val_idx], p), "fit_seconds": round(seconds, 3)}
    return Selection(_best(figures, candidates), validation, figures)


def _best(figures: dict[str, dict[str, Any]], order: Sequence[str]) -> str:
    scores = {name: figures[name][SELECTION_METRIC] for name in order if figures[name][SELECTION_METRIC] is not None}
    if not scores:
        return order[0]
    best = min(scores, key=lambda name: scores[name])
    simplest = next(name for name in order if name in scores)
    return simplest if scores[simplest] <= scores[best] + SIMPLER_MARGIN else best


@dataclass
class CrossValidation:
    """Out-of-fold metrics per candidate, and for the estimator ``retrain`` would choose inside each fold."""

    folds: int
    seed: int
    rows: int
    positive_rate: float
    per_fold: dict[str, list[dict[str, Any]]]
    chosen_in_fold: list[str]

    def summary(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """{estimator: {metric: {"mean", "sd"}}} over the folds."""
        return {name: _mean_sd(folds) for name, folds in self.per_fold.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "seed": self.seed,
            "rows": self.rows,
            "positive_rate": round(self.positive_rate, 6),
            "estimators": self.summary(),
            "chosen_in_each_fold": self.chosen_in_fold,
        }


def cross_validate(
    rows: Rows,
    y: np.ndarray,
    times: Sequence[datetime | None],
    *,
    folds: int = 5,
    seed: int = CV_SEED,
    candidates: Sequence[str] = ESTIMATORS,
    progress: Progress = SILENT,
) -> CrossValidation:
    """Seeded stratified k-fold: each candidate, and the selection procedure itself (nested), per fold."""
    y = np.asarray(y, dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    per_fold: dict[str, list[dict[str, Any]]] = {name: [] for name in [*candidates, "chosen"]}
    chosen: list[str] = []
    progress.stage("cross-validation", total=folds * (len(candidates) + 1), unit=" fits")
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train_rows, test_rows = take(rows, train_idx), take(rows, test_idx)
        fitted: dict[str, np.ndarray] = {}
        for name in candidates:
            pipeline, numeric, categorical = fit_candidate(train_rows, y[train_idx], name)
            fitted[name] = predict_churn(pipeline, test_rows, numeric, categorical)
            per_fold[name].append(evaluate_probabilities(y[test_idx], fitted[name]))
            progress.advance()
        selection = choose_estimator(train_rows, y[train_idx], [times[i] for i in train_idx], candidates=candidates)
        chosen.append(selection.chosen)
        per_fold["chosen"].append(evaluate_probabilities(y[test_idx], fitted[selection.chosen]))
        progress.advance()
    progress.done()
    return CrossValidation(folds, seed, len(y), float(y.mean()) if len(y) else math.nan, per_fold, chosen)


def _mean_sd(folds: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for metric in METRIC_NAMES:
        values = np.array([f[metric] for f in folds if f.get(metric) is not None], dtype=float)
        if len(values) == 0:
            out[metric] = {"mean": None, "sd": None}
        else:
            out[metric] = {"mean": round(float(values.mean()), 6), "sd": round(float(values.std(ddof=1)), 6)}
    return out
