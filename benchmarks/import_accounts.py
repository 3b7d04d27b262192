"""Import a large Orange-like CSV into a temporary database and print rows/s and peak memory next to the file size.

    python -m benchmarks.import_accounts                    # 1,000,000 rows (and a 20,000-row file for contrast)
    python -m benchmarks.import_accounts --rows 200000
    RETENTION_DESK_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test python -m benchmarks.import_accounts

Each import runs in a fresh child process that reports its resident memory before the import and its peak
during the import (Linux /proc: VmRSS, and VmHWM reset just before the import), so the figures compare a
small and a large file directly: a streaming import has the same peak for both. The CSV
uses the committed mapping ``seed/mappings/orange-telecom-churn.toml``; temporary databases are dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import POSTGRES_ENV, postgres_database, sqlite_database  # noqa: E402

MAPPING = ROOT / "seed" / "mappings" / "orange-telecom-churn.toml"
HEADER = (
    "State,Account length,Area code,International plan,Voice mail plan,Number vmail messages,Total day minutes,"
    "Total day calls,Total day charge,Total eve minutes,Total eve calls,Total eve charge,Total night minutes,"
    "Total night calls,Total night charge,Total intl minutes,Total intl calls,Total intl charge,"
    "Customer service calls,Churn"
)
STATES = np.array(
    [
        "AK",
        "AL",
        "AR",
        "AZ",
        "CA",
        "CO",
        "CT",
        "DC",
        "DE",
        "FL",
        "GA",
        "HI",
        "IA",
        "ID",
        "IL",
        "IN",
        "KS",
        "KY",
        "LA",
        "MA",
        "MD",
        "ME",
        "MI",
        "MN",
        "MO",
    ]
)
BLOCK = 50_000


def write_csv(path: Path, n_rows: int, seed: int = 7) -> None:
    """Orange-shaped rows with plausible values, written in blocks so the generator's memory stays small."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for start in range(0, n_rows, BLOCK):
            out.write(_block(rng, min(BLOCK, n_rows - start)))


def _block(rng: np.random.Generator, n: int) -> str:
    minutes = {k: rng.normal(m, 50, n).clip(0).round(1) for k, m in (("day", 180), ("eve", 200), ("night", 200))}
    intl = rng.normal(10, 2.8, n).clip(0).round(1)
    plan = np.where(rng.random(n) < 0.1, "Yes", "No")
    vmail = np.where(rng.random(n) < 0.27, "Yes", "No")
    service = rng.poisson(1.5, n)
    churn = np.where(rng.random(n) < 0.145 + 0.1 * (service >= 4), "True", "False")
    columns = [
        rng.choice(STATES, n),
        rng.integers(1, 243, n).astype(str),
        rng.choice(["408", "415", "510"], n),
        plan,
        vmail,
        np.where(vmail == "Yes", rng.integers(5, 50, n), 0).astype(str),
    ]
    for key, rate in (("day", 0.17), ("eve", 0.085), ("night", 0.045)):
        columns += [
            minutes[key].astype(str),
            rng.integers(40, 160, n).astype(str),
            (minutes[key] * rate).round(2).astype(str),
        ]
    columns += [intl.astype(str), rng.integers(0, 20, n).astype(str), (intl * 0.27).round(2).astype(str)]
    columns += [service.astype(str), churn]
    return "".join(",".join(row) + "\n" for row in zip(*columns, strict=True))


def child(url: str, path: str) -> None:
    """Run one import in this process and print its figures as JSON (the parent reads them)."""
    from retention_desk.services.importing.accounts import import_accounts
    from retention_desk.storage import migrate

    migrate.upgrade(url)
    base = _status_kib("VmRSS")  # everything loaded, nothing imported yet
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM), so it measures the import alone
    started = time.perf_counter()
    report = import_accounts(url=url, path=path, mapping=MAPPING)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "rows": report.inserted,
                "bad": report.bad_row_count,
                "seconds": seconds,
                "peak_kib": peak,
                "before_kib": base,
            }
        )
    )


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc (Linux), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_child(url: str, path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.import_accounts", "--child", url, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=20_000, help="rows of the contrast file")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for n in sorted({args.small, args.rows}):
            path = Path(folder) / f"orange-like-{n}.csv"
            write_csv(path, n)
            files.append((n, path))
        backends = [("sqlite", sqlite_database)]
        if os.environ.get(POSTGRES_ENV):
            backends.append(("postgresql", lambda: postgres_database(os.environ[POSTGRES_ENV])))
        print(
            f"{'backend':<11} {'rows':>10} {'file MB':>8} {'seconds':>8} {'rows/s':>8} "
            f"{'RSS at start MB':>16} {'peak RSS MB':>12}"
        )
        for name, database in backends:
            for n, path in files:
                with database() as url:
                    fig = run_child(url, path)
                assert fig["rows"] == n and fig["bad"] == 0, fig
                size = path.stat().st_size / 1e6
                print(
                    f"{name:<11} {n:>10,} {size:>8.1f} {fig['seconds']:>8.1f} {n / fig['seconds']:>8,.0f} "
                    f"{fig['before_kib'] / 1024:>16.0f} {fig['peak_kib'] / 1024:>12.0f}"
                )


if __name__ == "__main__":
    main()
