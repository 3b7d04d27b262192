"""Fitting one candidate and splitting rows: the pieces both training and estimator selection use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from retention_desk.ml.features import Feature, feature_columns, rows_to_frame
from retention_desk.ml.pipeline import build_pipeline

# One native thread: on a small, shared machine OpenMP spinning against another busy process made a
# 0.5 s fit take 16 s; these data sizes gain nothing from a second thread.
NATIVE_THREADS = 1
SPLIT_SEED = 20240917

Rows = Sequence[Mapping[str, Feature]]


def fit_candidate(rows: Rows, y: np.ndarray, estimator: str) -> tuple[Pipeline, list[str], list[str]]:
    """A fitted pipeline with its (numeric, categorical) columns; all-empty numeric columns are left out."""
    numeric, categorical = feature_columns(rows)
    frame = rows_to_frame(rows, numeric, categorical)
    # A column with no value at all (say, no contract end dates in an import) carries nothing to learn from.
    numeric = [name for name in numeric if frame[name].notna().any()]
    pipeline = build_pipeline(numeric, categorical, estimator=estimator)
    with threadpool_limits(limits=NATIVE_THREADS):
        pipeline.fit(frame[[*numeric, *categorical]], np.asarray(y, dtype=int))
    return pipeline, numeric, categorical


def predict_churn(pipeline: Pipeline, rows: Rows, numeric: Sequence[str], categorical: Sequence[str]) -> np.ndarray:
    """P(churn) for each row, in one ``predict_proba`` call."""
    if not rows:
        return np.zeros(0)
    frame = rows_to_frame(rows, numeric, categorical)
    with threadpool_limits(limits=NATIVE_THREADS):
        return pipeline.predict_proba(frame)[:, 1]


def split_holdout(
    times: Sequence[datetime | None], y: np.ndarray, *, share: float = 0.2, seed: int = SPLIT_SEED
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


def take(rows: Rows, idx: np.ndarray) -> list[Mapping[str, Feature]]:
    return [rows[i] for i in idx]
