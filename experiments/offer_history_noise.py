"""Is the offer model's error in a would-be leaver's P(yes) the noise of a year of answers, or a bias of the estimate?

For each offer × cancel reason, the logged history's first offers: how many were made, the share accepted, the
share the chosen model (fitted here as the nightly job fits it) expects for those same callers and the share the
ground truth expects; then the would-be leaver's P(yes) by the model and by the truth. If the log is the truth plus
sampling noise, the cells' z-scores (accepted against the truth's expectation) scatter with mean 0 and standard
deviation 1; where the model's errors follow the log's, it is learning that noise.

    RETENTION_DESK_DATABASE_URL=sqlite:////tmp/w.sqlite3 RETENTION_DESK_MODEL_DIR=/tmp/w-models \\
        python experiments/offer_history_noise.py [--min-offers 60]

needs a world (``retention-desk seed --accounts 20000``) and a churn model (``retention-desk retrain``); about half a
minute on the demo world.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.offer_world import prepare  # noqa: E402
from retention_desk.storage.db import session_scope  # noqa: E402
from retention_desk.storage.tables import Call  # noqa: E402

FIELDS = ("n", "yes", "model", "truth", "variance", "leaver_model", "leaver_truth", "stay_share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-offers", type=int, default=60, help="list the cells with at least this many offers")
    args = parser.parse_args()
    bench = prepare(0)  # the world, its history and the chosen model's fit; no simulated callers needed
    settings, world, catalog, data = bench.settings, bench.world, bench.catalog, bench.data
    model = bench.fit()
    with session_scope(settings.database_url) as session:
        account_of = dict(session.exec(select(Call.id, Call.account_id)).all())
    first = {}
    for p in data.presentations:
        if not p.follow_up and p.offer_code in world.codes:
            first.setdefault(p.call_id, p)
    shown = list(first.values())
    days = [(p.as_of.date() - bench.as_of).days for p in shown]
    share, gift, leaver = world.logged_truth(
        np.array([account_of[p.call_id] for p in shown]), np.array(days), np.array([p.reason for p in shown])
    )
    got = model.predict_parts([p.features for p in shown], [p.reason for p in shown], catalog, None)
    if got.share is None or got.stayer is None or got.leaver is None:
        raise SystemExit("The chosen model did not fit the joint estimator on this world; nothing to compare.")
    model_column = {o.code: j for j, o in enumerate(catalog)}
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0.0))
    for n, p in enumerate(shown):
        j, t = model_column[p.offer_code], world.codes.index(p.offer_code)
        s_m, g_m, l_m = float(got.share[n]), float(got.stayer[0][n, j]), float(got.leaver[0][n, j])
        truth = share[n] * gift[n, t] + (1 - share[n]) * leaver[n, t]
        cell = cells[(p.offer_code, p.reason or "none")]
        cell["n"] += 1
        cell["yes"] += p.accepted
        cell["model"] += s_m * g_m + (1 - s_m) * l_m
        cell["truth"] += truth
        cell["variance"] += truth * (1 - truth)
        cell["leaver_model"] += l_m
        cell["leaver_truth"] += leaver[n, t]
        cell["stay_share"] += share[n]
    print(f"{len(shown):,} first offers in {len(cells)} offer × reason cells")
    print(f"{'offer × reason':<32}{'offers':>7}{'accepted':>10}{'model':>8}{'truth':>8}", end="")
    print("   leaver's P(yes): model  truth")
    for key, c in sorted(cells.items(), key=lambda kv: -kv[1]["n"]):
        if c["n"] >= args.min_offers:
            n = c["n"]
            print(
                f"{key[0] + ' × ' + key[1]:<32}{n:>7.0f}{c['yes'] / n:>10.3f}{c['model'] / n:>8.3f}"
                f"{c['truth'] / n:>8.3f}{c['leaver_model'] / n:>25.3f}{c['leaver_truth'] / n:>7.3f}"
            )
    _summary(cells, len(shown))


def _summary(cells: dict[tuple[str, str], dict[str, float]], n_shown: int) -> None:
    """Does the log stray from the truth more than chance allows, and do the model's errors follow the log's?"""
    total = {f: sum(c[f] for c in cells.values()) for f in FIELDS}
    print(
        f"all first offers: accepted {total['yes'] / n_shown:.3f}, model {total['model'] / n_shown:.3f}, "
        f"truth {total['truth'] / n_shown:.3f} (standard error {np.sqrt(total['variance']) / n_shown:.3f})"
    )
    big = [c for c in cells.values() if c["n"] >= 20]
    z = np.array([(c["yes"] - c["truth"]) / np.sqrt(c["variance"]) for c in big])
    print(
        f"cells with 20 or more offers: {len(big)}; z-scores of accepted against the truth: mean {z.mean():.2f}, "
        f"standard deviation {z.std():.2f} (sampling noise alone: 0 and 1)"
    )
    observed = np.array([(c["yes"] - c["truth"]) / c["n"] for c in big])
    fitted = np.array([(c["model"] - c["truth"]) / c["n"] for c in big])
    leaver = np.array([(c["leaver_model"] - c["leaver_truth"]) / c["n"] for c in big])
    weight = np.array([c["n"] for c in big])
    mean_error = np.average(np.abs(leaver), weights=weight)
    print(
        f"across those cells, the model's acceptance error follows the log's (correlation "
        f"{np.corrcoef(observed, fitted)[0, 1]:.2f}) and its leaver error follows its acceptance error (correlation "
        f"{np.corrcoef(fitted, leaver)[0, 1]:.2f}); mean absolute leaver error {mean_error:.3f}"
    )


if __name__ == "__main__":
    main()
