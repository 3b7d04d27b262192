"""Compare the churn model's candidate estimators on a seeded world's time-ordered hold-out; prints their metrics
and fit times, then the candidate the nightly job's selection chooses ("auto").

Usage: python -m benchmarks.churn_model sqlite:///path/to/world.sqlite3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from retention_desk.config import test_settings
from retention_desk.ml.pipeline import AUTO, ESTIMATORS
from retention_desk.ml.train import train_churn_pipeline
from retention_desk.services.models.nightly import load_training_rows


def main(url: str) -> None:
    settings = test_settings(url, Path(tempfile.mkdtemp()))
    started = time.perf_counter()
    data = load_training_rows(settings=settings)
    print(f"features: {len(data.rows)} rows, churn rate {data.y.mean():.3f}, {time.perf_counter() - started:.1f} s")
    for estimator in (*ESTIMATORS, AUTO):
        started = time.perf_counter()
        trained = train_churn_pipeline(data.rows, data.y, data.times, estimator=estimator)
        name = f"{estimator} ({trained.candidate})" if estimator == AUTO else estimator
        _print(name, trained.metrics, time.perf_counter() - started)


def _print(name: str, m: dict, seconds: float) -> None:
    print(
        f"{name:<18} AUC {m['roc_auc']:.4f}  log loss {m['log_loss']:.4f}  Brier {m['brier']:.4f}  "
        f"ECE {m['ece']:.4f}  lift@10% {m['top_decile_lift']:.2f}  n {int(m['n'])}  "
        f"rate {m['positive_rate']:.3f}  fit {seconds:.1f} s"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1])
