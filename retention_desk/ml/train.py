"""Fit the churn pipeline on older calls and measure it on the newest ones, as it will be used: forward in time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from retention_desk.ml.evaluate import evaluate_probabilities
from retention_desk.ml.features import Feature, feature_columns, rows_to_frame
from retention_desk.ml.pipeline import DEFAULT_ESTIMATOR, build_pipeline, estimator_name

HOLDOUT_SHARE = 0.2
# One native thread: on a small, shared machine OpenMP spinning against another busy process made a
# 0.5 s fit take 16 s; these data sizes gain nothing from a second thread.
NATIVE_THREADS = 1
SPLIT_SEED = 20240917

Rows = Sequence[Mapping[str, Feature]]


@dataclass
class TrainedModel:
    """A fitted pipeline with what it was fitted on and how it did on rows it never saw."""

    pipeline: Pipeline
    estimator: str
    numeric: list[str]
    categorical: list[str]
    metrics: dict[str, Any]
    holdout_rows: list[Mapping[str, Feature]]
    holdout_y: np.ndarray
    window_start: datetime | None
    window_end: datetime | None
    rows_train: int
    rows_holdout: int

    @property
    def feature_list(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def predict_churn(pipeline: Pipeline, rows: Rows, numeric: Sequence[str], categorical: Sequence[str]) -> np.ndarray:
    """P(churn) for each row, in one ``predict_proba`` call."""
    if not rows:
        return np.zeros(0)
    frame = rows_to_frame(rows, numeric, categorical)
    with threadpool_limits(limits=NATIVE_THREADS):
        return pipeline.predict_proba(frame)[:, 1]


def split_holdout(
    times: Sequence[datetime | None], y: np.ndarray, *, share: float = HOLDOUT_SHARE, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """(train, hold-out) indices: the newest ``share`` of dated rows, plus a seeded stratified share of undated ones."""
    dated = np.array([i for i, t in enumerate(times) if t is not None], dtype=int)
    undated = np.array([i for i, t in enumerate(times) if t is None], dtype=int)
    train, hold = [], []
    if len(dated):
        order = dated[np.argsort([times[i] for i in dated], kind="stable")]
        n_hold = int(round(len(order) * share))
        train.append(order[: len(order) - n_hold])
        hold.append(order[len(order) - n_hold :])
    if len(undated):
        labels = y[undated]
        stratify = labels if np.bincount(labels, minlength=2).min() >= 2 else None
        u_train, u_hold = train_test_split(undated, test_size=share, random_state=seed, stratify=stratify)
        train.append(np.sort(u_train))
        hold.append(np.sort(u_hold))
    return np.concatenate(train or [np.zeros(0, int)]), np.concatenate(hold or [np.zeros(0, int)])


def train_churn_pipeline(
    rows: Rows,
    y: Sequence[int] | np.ndarray,
    times: Sequence[datetime | None],
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    share: float = HOLDOUT_SHARE,
) -> TrainedModel:
    """Fit on the older rows, evaluate on the hold-out; the served model is exactly the evaluated one."""
    y_arr = np.asarray(y, dtype=int)
    train_idx, hold_idx = split_holdout(times, y_arr, share=share)
    train_rows = [rows[i] for i in train_idx]
    hold_rows = [rows[i] for i in hold_idx]
    numeric, categorical = feature_columns(train_rows)
    frame = rows_to_frame(train_rows, numeric, categorical)
    # A column with no value at all (say, no contract end dates in an import) carries nothing to learn from.
    numeric = [name for name in numeric if frame[name].notna().any()]
    pipeline = build_pipeline(numeric, categorical, estimator=estimator)
    with threadpool_limits(limits=NATIVE_THREADS):
        pipeline.fit(frame[[*numeric, *categorical]], y_arr[train_idx])
    p_hold = predict_churn(pipeline, hold_rows, numeric, categorical)
    dated = [t for t in times if t is not None]
    return TrainedModel(
        pipeline=pipeline,
        estimator=estimator_name(pipeline),
        numeric=numeric,
        categorical=categorical,
        metrics=evaluate_probabilities(y_arr[hold_idx], p_hold),
        holdout_rows=hold_rows,
        holdout_y=y_arr[hold_idx],
        window_start=min(dated) if dated else None,
        window_end=max(dated) if dated else None,
        rows_train=len(train_idx),
        rows_holdout=len(hold_idx),
    )
