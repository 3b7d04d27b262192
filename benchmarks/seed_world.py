"""Seed N synthetic accounts into a temporary SQLite database (and PostgreSQL when configured) and print the speed.

    python -m benchmarks.seed_world                 # 100,000 accounts
    python -m benchmarks.seed_world --accounts 20000
    RETENTION_DESK_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python -m benchmarks.seed_world

Each backend is seeded twice: the first run on an empty database, the second a re-seed that first wipes the
world it replaces. Temporary databases are dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import POSTGRES_ENV, postgres_database, sqlite_database  # noqa: E402
from retention_desk.cli.progress import progress_shown  # noqa: E402
from retention_desk.services.seeding import SeedSummary, seed_demo_world  # noqa: E402
from retention_desk.storage import migrate  # noqa: E402


def rows(summary: SeedSummary) -> int:
    tables = ("accounts", "services", "bills", "tickets", "offer_history", "calls", "call_offers")
    return sum(getattr(summary, name) for name in tables)


def run(backend: str, url: str, accounts: int, seed: int, progress: bool) -> None:
    migrate.upgrade(url)
    for label in ("empty database", "re-seed"):
        summary = seed_demo_world(
            url=url, accounts=accounts, seed=seed, as_of=date(2026, 6, 15), progress=progress_shown(not progress)
        )
        total = rows(summary)
        print(
            f"{backend:<10} {label:<15} {summary.accounts:>9,} accounts {total:>11,} rows "
            f"{summary.seconds:>7.1f} s {total / summary.seconds:>11,.0f} rows/s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--progress", action="store_true", help="show the progress bars")
    args = parser.parse_args()
    print(f"Seeding {args.accounts:,} accounts (seed {args.seed}), {os.cpu_count()} CPUs")
    with sqlite_database() as url:
        run("sqlite", url, args.accounts, args.seed, args.progress)
    if os.environ.get(POSTGRES_ENV):
        with postgres_database(os.environ[POSTGRES_ENV]) as url:
            run("postgresql", url, args.accounts, args.seed, args.progress)
    else:
        print(f"(set {POSTGRES_ENV} to measure PostgreSQL too)")


if __name__ == "__main__":
    main()
