"""Compare churn estimators on a seeded world's time-ordered hold-out; prints metrics and fit times.

Usage: python -m benchmarks.churn_model sqlite:///path/to/world.sqlite3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV

from retention_desk.config import test_settings
from retention_desk.ml.evaluate import evaluate_probabilities
from retention_desk.ml.features import feature_columns, rows_to_frame
from retention_desk.ml.pipeline import build_pipeline
from retention_desk.ml.train import split_holdout, train_churn_pipeline
from retention_desk.services.models.nightly import load_training_rows


def main(url: str) -> None:
    settings = test_settings(url, Path(tempfile.mkdtemp()))
    started = time.perf_counter()
    data = load_training_rows(settings=settings, progress=False)
    print(f"features: {len(data.rows)} rows, churn rate {data.y.mean():.3f}, {time.perf_counter() - started:.1f} s")
    for estimator in ("hgb", "logistic"):
        started = time.perf_counter()
        trained = train_churn_pipeline(data.rows, data.y, data.times, estimator=estimator)
        _print(estimator, trained.metrics, time.perf_counter() - started)
    train_idx, hold_idx = split_holdout(data.times, data.y)
    train_rows = [data.rows[i] for i in train_idx]
    numeric, categorical = feature_columns(train_rows)
    frame = rows_to_frame(train_rows, numeric, categorical)
    numeric = [n for n in numeric if frame[n].notna().any()]
    hold = rows_to_frame([data.rows[i] for i in hold_idx], numeric, categorical)
    for method in ("sigmoid", "isotonic"):
        started = time.perf_counter()
        model = CalibratedClassifierCV(build_pipeline(numeric, categorical), method=method, cv=3)
        model.fit(frame[[*numeric, *categorical]], data.y[train_idx])
        p = model.predict_proba(hold)[:, 1]
        _print(f"hgb+{method}", evaluate_probabilities(data.y[hold_idx], p), time.perf_counter() - started)


def _print(name: str, m: dict, seconds: float) -> None:
    print(
        f"{name:<14} AUC {m['roc_auc']:.4f}  log loss {m['log_loss']:.4f}  Brier {m['brier']:.4f}  "
        f"ECE {m['ece']:.4f}  lift@10% {m['top_decile_lift']:.2f}  n {int(m['n'])}  "
        f"rate {m['positive_rate']:.3f}  fit {seconds:.1f} s"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1])
