"""Fit the churn pipeline on older calls and measure it on the newest ones, as it will be used: forward in time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from retention_desk.ml.evaluate import evaluate_probabilities, reliability_bins
from retention_desk.ml.features import Feature
from retention_desk.ml.fitting import (
    NATIVE_THREADS,
    SPLIT_SEED,
    Rows,
    fit_candidate,
    predict_churn,
    split_holdout,
    take,
)
from retention_desk.ml.pipeline import AUTO, estimator_name
from retention_desk.ml.selection import Selection, choose_estimator

__all__ = ["NATIVE_THREADS", "SPLIT_SEED", "TrainedModel", "predict_churn", "split_holdout", "train_churn_pipeline"]

HOLDOUT_SHARE = 0.2


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
    candidate: str = ""  # the candidate name in ml.pipeline.ESTIMATORS, e.g. "hgb"
    selection: dict[str, Any] = field(default_factory=dict)
    train_window: tuple[datetime | None, datetime | None] = (None, None)
    holdout_window: tuple[datetime | None, datetime | None] = (None, None)

    @property
    def feature_list(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def train_churn_pipeline(
    rows: Rows,
    y: Sequence[int] | np.ndarray,
    times: Sequence[datetime | None],
    *,
    estimator: str = AUTO,
    share: float = HOLDOUT_SHARE,
) -> TrainedModel:
    """Hold out the newest rows, choose the estimator on the rest (``auto``), fit it there, score the hold-out.

    The served model is exactly the evaluated one: it never sees the hold-out rows.
    """
    y_arr = np.asarray(y, dtype=int)
    train_idx, hold_idx = split_holdout(times, y_arr, share=share)
    train_rows, hold_rows = take(rows, train_idx), take(rows, hold_idx)
    train_times = [times[i] for i in train_idx]
    if estimator == AUTO:
        selection = choose_estimator(train_rows, y_arr[train_idx], train_times)
    else:
        selection = Selection(estimator, {"note": "estimator given, not chosen"})
    pipeline, numeric, categorical = fit_candidate(train_rows, y_arr[train_idx], selection.chosen)
    p_hold = predict_churn(pipeline, hold_rows, numeric, categorical)
    dated = [t for t in times if t is not None]
    return TrainedModel(
        pipeline=pipeline,
        estimator=estimator_name(pipeline),
        numeric=numeric,
        categorical=categorical,
        metrics={
            **evaluate_probabilities(y_arr[hold_idx], p_hold),
            "reliability": reliability_bins(y_arr[hold_idx], p_hold),
        },
        holdout_rows=hold_rows,
        holdout_y=y_arr[hold_idx],
        window_start=min(dated) if dated else None,
        window_end=max(dated) if dated else None,
        rows_train=len(train_idx),
        rows_holdout=len(hold_idx),
        candidate=selection.chosen,
        selection=selection.as_dict(),
        train_window=_window(train_times),
        holdout_window=_window([times[i] for i in hold_idx]),
    )


def _window(times: Sequence[datetime | None]) -> tuple[datetime | None, datetime | None]:
    dated = [t for t in times if t is not None]
    return (min(dated), max(dated)) if dated else (None, None)
