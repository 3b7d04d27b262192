"""Desk scoring latency: one account plus its K permitted offers, four ways, measured in the same run.

  (a) straightforward: one ``pipeline.predict_proba`` per row on a one-row DataFrame
  (b) scikit-learn batched: one ``pipeline.predict_proba`` on a DataFrame of K+1 rows
  (c) lean scorer (ml/scorer.py) on K+1 feature dicts: what the desk runs
  (d) arithmetic only: the final estimator on a prebuilt matrix (numpy dot + sigmoid for logistic regression;
      ``predict_proba`` of the fitted trees on the numpy matrix for gradient boosting)

Usage:
  python -m benchmarks.scoring                       # seeds a 20,000-account world into a temp SQLite file
  python -m benchmarks.scoring --url sqlite:///path/to/world.sqlite3 [--accounts N] [--offers K] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from retention_desk.config import test_settings
from retention_desk.ml.features import feature_columns, rows_to_frame
from retention_desk.ml.pipeline import build_pipeline
from retention_desk.ml.scorer import compile_scorer
from retention_desk.services.models.nightly import load_training_rows
from retention_desk.services.seeding import seed_demo_world
from retention_desk.storage import migrate

OFFERS = 14  # permitted offers in the demo catalog


def offer_rows(row: dict, k: int) -> list[dict]:
    """K variants of the account as offers would change it (discounts, premium channels, a longer contract...)."""
    changes = [
        {"monthly_charge": float(row["monthly_charge"]) * (1 - s)} for s in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
    ] + [
        {"n_premium_channels": float(row["n_premium_channels"]) + 1},
        {"n_premium_channels": float(row["n_premium_channels"]) + 2},
        {"contract_type": "one_year", "months_to_contract_end": 12.0},
        {"contract_type": "two_year", "months_to_contract_end": 24.0},
        {"has_tv": 1.0, "n_services": float(row["n_services"]) + 1},
        {"has_mobile": 1.0, "n_services": float(row["n_services"]) + 1},
        {"monthly_charge": float(row["monthly_charge"]) - 100.0, "plan_code": "BB_100"},
        {"offers_before": float(row["offers_before"]) + 1, "days_since_last_offer": 0.0},
    ]
    return [{**row, **changes[i % len(changes)]} for i in range(k)]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm caches
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def summary(label: str, micros: list[float]) -> float:
    median = statistics.median(micros)
    p95 = float(np.percentile(micros, 95))
    print(f"  {label:<52} median {median:>10.1f} us   p95 {p95:>10.1f} us")
    return median


def bench_estimator(name: str, rows: list[dict], y: np.ndarray, screen: list[dict], repeat: int) -> None:
    numeric, categorical = feature_columns(rows)
    frame = rows_to_frame(rows, numeric, categorical)
    numeric = [n for n in numeric if frame[n].notna().any()]
    pipeline = build_pipeline(numeric, categorical, estimator=name)
    started = time.perf_counter()
    pipeline.fit(frame[[*numeric, *categorical]], y)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scorer = compile_scorer(pipeline, numeric, categorical, check_rows=rows[:200])
    compile_ms = (time.perf_counter() - started) * 1000
    model = type(pipeline[-1]).__name__
    print(f"\n{name}: {model}, fit {fit_s:.1f} s; compile + check {compile_ms:.0f} ms; {scorer.note}")

    def one_by_one() -> None:
        for row in screen:
            pipeline.predict_proba(rows_to_frame([row], numeric, categorical))

    def batched() -> None:
        pipeline.predict_proba(rows_to_frame(screen, numeric, categorical))

    matrix = scorer.matrix(screen)
    a = summary(f"(a) {len(screen)} x predict_proba on a one-row DataFrame", timed(one_by_one, max(repeat // 10, 20)))
    summary(f"(b) predict_proba on one DataFrame of {len(screen)} rows", timed(batched, repeat))
    c = summary(f"(c) lean scorer on {len(screen)} feature dicts", timed(lambda: scorer.score(screen), repeat))
    summary("(d) arithmetic only, on a prebuilt matrix", timed(lambda: scorer.score_matrix(matrix), repeat))
    expected = pipeline.predict_proba(rows_to_frame(screen, numeric, categorical))[:, 1]
    singles = np.array([pipeline.predict_proba(rows_to_frame([r], numeric, categorical))[0, 1] for r in screen])
    gap = max(np.max(np.abs(scorer.score(screen) - expected)), np.max(np.abs(scorer.score(screen) - singles)))
    print(f"  speed-up (a)/(c): {a / c:.1f}x   max |(c) - scikit-learn|: {gap:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an existing seeded database (default: seed a temporary one)")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=OFFERS)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scoring-bench-"))
    url = args.url
    if url is None:
        url = f"sqlite:///{folder / 'world.sqlite3'}"
        migrate.upgrade(url)
        started = time.perf_counter()
        seed_demo_world(url=url, accounts=args.accounts, seed=7, as_of=date(2026, 11, 26))
        print(f"seeded {args.accounts} accounts in {time.perf_counter() - started:.0f} s")
    data = load_training_rows(settings=test_settings(url, folder))
    print(f"training rows: {len(data.rows)}; one account + {args.offers} offer rows per screen; one native thread")
    account = dict(data.rows[-1])
    screen = [account, *offer_rows(account, args.offers)]
    with threadpool_limits(limits=1):
        for name in ("logistic", "hgb"):
            bench_estimator(name, data.rows, data.y, screen, args.repeat)


if __name__ == "__main__":
    main()
