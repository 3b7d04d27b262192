"""Hold-out metrics for a churn probability: ranking (AUC, lift), and how honest the probabilities are."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

ECE_BINS = 10
_EPS = 1e-15


def _arrays(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=int)
    p_arr = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if y_arr.shape != p_arr.shape or y_arr.ndim != 1:
        raise ValueError("labels and probabilities must be two sequences of the same length")
    return y_arr, p_arr


def roc_auc(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve; NaN when the labels hold one class only."""
    y_arr, p_arr = _arrays(y, p)
    if len(np.unique(y_arr)) < 2:
        return math.nan
    return float(roc_auc_score(y_arr, p_arr))


def logistic_loss(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> float:
    y_arr, p_arr = _arrays(y, p)
    return float(log_loss(y_arr, np.clip(p_arr, _EPS, 1 - _EPS), labels=[0, 1]))


def brier(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> float:
    y_arr, p_arr = _arrays(y, p)
    return float(brier_score_loss(y_arr, p_arr, pos_label=1))


def expected_calibration_error(
    y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray, bins: int = ECE_BINS
) -> float:
    """Weighted mean gap between predicted and observed churn over equal-width probability bins."""
    y_arr, p_arr = _arrays(y, p)
    if len(y_arr) == 0:
        return math.nan
    index = np.minimum((p_arr * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(p_arr[mask].mean() - y_arr[mask].mean())
    return float(total / len(y_arr))


def reliability_bins(
    y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray, bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """The ECE's bins, non-empty ones only (lower edge, rows, mean predicted, observed churn): the calibration chart
    needs them, and a page must not re-score the hold-out to draw it."""
    y_arr, p_arr = _arrays(y, p)
    index = np.minimum((p_arr * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "lower": round(b / bins, 6),
                    "n": int(mask.sum()),
                    "predicted": round(float(p_arr[mask].mean()), 6),
                    "observed": round(float(y_arr[mask].mean()), 6),
                }
            )
    return out


def top_decile_lift(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> float:
    """Churn rate among the riskiest 10 % over the overall rate (1.0 = no better than chance)."""
    y_arr, p_arr = _arrays(y, p)
    base = y_arr.mean() if len(y_arr) else 0.0
    if base == 0:
        return math.nan
    top = max(1, int(math.ceil(len(y_arr) * 0.1)))
    order = np.argsort(-p_arr, kind="stable")[:top]
    return float(y_arr[order].mean() / base)


def evaluate_probabilities(y: Sequence[int] | np.ndarray, p: Sequence[float] | np.ndarray) -> dict[str, float | None]:
    """Every hold-out metric at once, as plain floats (JSON-able; NaN becomes None)."""
    y_arr, _ = _arrays(y, p)
    metrics = {
        "roc_auc": roc_auc(y, p),
        "log_loss": logistic_loss(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": top_decile_lift(y, p),
        "n": float(len(y_arr)),
        "positive_rate": float(y_arr.mean()) if len(y_arr) else math.nan,
    }
    return {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 6)) for k, v in metrics.items()}
