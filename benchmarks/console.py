"""The supervisor console on a large call log: page time next to its own SQL, and the CSV export's memory.

    python -m benchmarks.console --url postgresql://postgres@127.0.0.1:5432/test --calls 1000000
    python -m benchmarks.console --url postgresql://postgres@127.0.0.1:5432/test --calls 50000 --requests 5

It makes its own scratch PostgreSQL database (dropped afterwards) and fills it with COPY in a child process (so the
generator's memory does not count against the export): accounts with a year of bills, desk users in teams, the
seed catalog and cancel reasons, and ``--calls`` desk calls spread over the last year, each with a ranked list like
the desk logs, the offers presented and their answers (``call_offers``) and the offer history they committed. Then,
signed in as a supervisor through the Flask test client:

* each page (the dashboard with its default range and grouped by offer; the offer log with realistic filters) is
  requested once to capture the exact SQL it sends (a ``before_cursor_execute`` listener), then page requests and
  bare executions of those statements with their parameters alternate, so both see the same machine load; p50/p95
  of each, the page/SQL ratio (the acceptance line: the page within 2x of its queries) and the app's own share
  (page p50 − SQL p50) are printed;
* the CSV export of every call is streamed through the app, with the process RSS before, the peak during (the
  kernel's high-water mark, reset just before the export) and the size of the CSV.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import postgres_database  # noqa: E402
from retention_desk.services.catalog.files import load_cancel_reasons, load_offers
from retention_desk.services.catalog.store import upsert_cancel_reasons, upsert_offers
from retention_desk.services.staff.users import UserIn, create_user  # noqa: E402
from retention_desk.storage import migrate  # noqa: E402
from retention_desk.storage.db import dispose_engines, get_engine, session_scope  # noqa: E402
from retention_desk.storage.tables import User  # noqa: E402

SUPERVISOR, PASSWORD = "bench-supervisor", "bench-supervisor-password"
TEAMS = ("Desk Oslo", "Desk Bergen", "Desk Trondheim", "Desk Stavanger", "Desk Stockholm", "Desk Helsinki")
AGENTS_PER_TEAM = 16
REASONS_WEIGHTS = {
    "price": 0.30,
    "competitor_offer": 0.18,
    "service_quality": 0.12,
    "not_using": 0.10,
    "moving": 0.08,
    "financial_hardship": 0.07,
    "content": 0.06,
    "customer_service": 0.05,
    "other": 0.04,
}
DISPOSITION_WEIGHTS = {
    "saved_with_offer": 0.34,
    "saved_without_offer": 0.09,
    "downgraded": 0.07,
    "cancelled": 0.41,
    "callback": 0.04,
    "escalated": 0.03,
    None: 0.02,  # still open
}
MODE_WEIGHTS = {"exploit": 0.88, "explore": 0.05, "holdout": 0.02, "rules_only": 0.05}
NOTES = ("", "", "", "", "Wants to think about it", "Moving abroad in June", "Competitor offered 299/month")
RANKED_POOL = 3000
ACCEPTANCE_RATIO = 2.0
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# --- the scratch world ----------------------------------------------------------------------------------------


def fill(url: str, calls: int, accounts: int, seed: int) -> None:
    """Everything the console reads, bulk-loaded with COPY; ends with ANALYZE."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    offers, agents = _lookups(url)
    raw = get_engine(url).raw_connection()
    try:
        cursor = raw.cursor()
        _copy_accounts(cursor, rng, accounts, now)
        _copy_bills(cursor, rng, accounts, now)
        print(f"  accounts and bills loaded in {time.perf_counter() - start:.0f} s", flush=True)
        _copy_calls(cursor, rng, calls, accounts, agents, offers, now)
        cursor.execute("SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT max(id) FROM calls))")
        raw.commit()
        print(f"  calls loaded in {time.perf_counter() - start:.0f} s; analysing", flush=True)
        cursor.execute("ANALYZE")  # inside a transaction, so it must be committed to keep the statistics
        raw.commit()
        counts = []
        for table in ("accounts", "bills", "calls", "call_offers", "offer_history"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed table names)
            counts.append(f"{table} {cursor.fetchone()[0]:,}")
        print(f"  filled in {time.perf_counter() - start:.0f} s: {', '.join(counts)}", flush=True)
    finally:
        raw.close()
        dispose_engines()


def _lookups(url: str) -> tuple[dict[str, tuple[str, Decimal, str, int]], list[int]]:
    """The seed catalog and reasons, the supervisor, and the agents in their teams (which never sign in)."""
    with session_scope(url) as session:
        specs = load_offers()
        upsert_offers(session=session, offers=specs)
        upsert_cancel_reasons(session=session, reasons=load_cancel_reasons())
        create_user(session=session, user_in=UserIn(username=SUPERVISOR, password=PASSWORD, role="supervisor"))
        for t, team in enumerate(TEAMS):
            for i in range(AGENTS_PER_TEAM):
                name = f"agent{t:02d}{i:02d}"
                session.add(
                    User(
                        username=name,
                        display_name=f"{team.split()[1]} agent {i + 1}",
                        password_hash="!",  # cannot sign in
                        role="agent",
                        authority_tier=1 + i % 3,
                        team=team,
                    )
                )
        session.flush()
        agents = list(session.execute(select(User.id).where(User.role == "agent")).scalars())
    offers = {s.code: (s.kind, s.cost_amount, s.cost_model, s.duration_months or 1) for s in specs}
    return offers, agents


def _copy_accounts(cursor: Any, rng: np.random.Generator, n: int, now: datetime) -> None:
    cancelled = rng.random(n) < 0.22
    changed = rng.integers(0, 365 * 86400, n)
    charges = rng.integers(299, 1300, n)
    contracts = rng.choice(["month_to_month", "one_year", "two_year"], n, p=[0.55, 0.3, 0.15])
    columns = (
        "account_no, first_name, last_name, name_search, surname_search, contract_type, monthly_charge, currency, "
        "status, status_changed_at, extra, source, created_at, updated_at, plan_code"
    )
    with cursor.copy(f"COPY accounts ({columns}) FROM STDIN") as copy:
        for i in range(n):
            last = f"Hansen{i % 997}"
            copy.write_row(
                (
                    f"{2_000_000 + i}",
                    "Kari",
                    last,
                    f"kari {last.lower()}",
                    last.lower(),
                    contracts[i],
                    int(charges[i]),
                    "NOK",
                    "cancelled" if cancelled[i] else "active",
                    now - timedelta(seconds=int(changed[i])) if cancelled[i] else None,
                    "{}",
                    "bench",
                    now,
                    now,
                    "TV_BB_300",
                )
            )


def _copy_bills(cursor: Any, rng: np.random.Generator, accounts: int, now: datetime) -> None:
    """Twelve monthly bills per account; about 3% never paid and 3% paid late."""
    first = date(now.year - 1, now.month, 1)
    months = [date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(13)]
    fate = rng.random((accounts, 12))
    with cursor.copy("COPY bills (account_id, period_start, amount, due_on, paid_on) FROM STDIN") as copy:
        for a in range(accounts):
            for k in range(12):
                due = months[k] + timedelta(days=14)
                f = fate[a, k]
                paid = None if f < 0.03 else due + timedelta(days=20) if f < 0.06 else due - timedelta(days=3)
                copy.write_row((a + 1, months[k], 699, due, paid))


@dataclass(frozen=True)
class _Ranked:
    json: str
    codes: list[str | None]  # in rank order; None is "no offer"
    values: dict[str, float]


def _ranked_pool(rng: np.random.Generator, codes: list[str]) -> list[_Ranked]:
    """Ranked lists shaped like the desk's ``RankedItem.as_log()``, reused across calls (generation is the cost)."""
    pool = []
    for _ in range(RANKED_POOL):
        chosen: list[str | None] = list(rng.choice(codes, int(rng.integers(3, 7)), replace=False))
        chosen.insert(int(rng.integers(0, len(chosen) + 1)), None)
        items, values = [], {}
        for rank, code in enumerate(chosen, start=1):
            ev = 0.0 if code is None else round(float(rng.normal(120, 150)), 2)
            p_stay = float(rng.uniform(0.3, 0.9))
            items.append(
                {
                    "offer_code": code,
                    "rank": rank,
                    "p_stay": round(p_stay, 6),
                    "p_accept": round(float(rng.uniform(0.05, 0.7)) if code else 0.0, 6),
                    "expected_cost": round(float(rng.uniform(50, 900)) if code else 0.0, 2),
                    "expected_value": ev,
                    "propensity": round(0.9 if rank == 1 else 0.1 / len(chosen), 9),
                    "needs_approval": bool(code and rng.random() < 0.1),
                }
            )
            if code:
                values[code] = ev
        pool.append(_Ranked(json.dumps(items), chosen, values))
    return pool


def _reasons_pool(rng: np.random.Generator) -> list[str]:
    features = ("tenure_months", "monthly_charge", "outage_hours_90d", "late_payments_12m", "contract_end_days")
    return [
        json.dumps(
            [
                {"feature": f, "code": "unknown", "params": {}, "value": float(rng.uniform(0, 50)), "delta": 0.05}
                for f in rng.choice(features, 3, replace=False)
            ]
        )
        for _ in range(200)
    ]


def _copy_calls(
    cursor: Any,
    rng: np.random.Generator,
    n: int,
    accounts: int,
    agents: list[int],
    offers: dict[str, tuple[str, Decimal, str, int]],
    now: datetime,
) -> None:
    """Calls, the offers presented on them and the offer history they leave, streamed through three COPYs."""
    codes = sorted(offers)
    pool, reasons = _ranked_pool(rng, codes), _reasons_pool(rng)
    started = np.sort(rng.integers(0, 365 * 86400, n))[::-1]  # seconds before now; call 1 is the oldest
    account = rng.integers(1, accounts + 1, n)
    agent = rng.choice(agents, n)
    reason = rng.choice(list(REASONS_WEIGHTS), n, p=list(REASONS_WEIGHTS.values()))
    dispo_keys = list(DISPOSITION_WEIGHTS)
    dispo = rng.choice(len(dispo_keys), n, p=list(DISPOSITION_WEIGHTS.values()))
    mode = rng.choice(list(MODE_WEIGHTS), n, p=list(MODE_WEIGHTS.values()))
    risk = rng.beta(2.2, 2.8, n)
    ranked_of = rng.integers(0, RANKED_POOL, n)
    dice = rng.random((n, 3))
    presented: list[tuple] = []
    history: list[tuple] = []
    call_columns = (
        "id, idempotency_key, account_id, agent_id, started_at, cancel_requested_at, cancel_reason, risk_score, "
        "risk_band, risk_model_version, offer_model_version, customer_value, reasons, ranked, decision_mode, "
        "disposition, disposition_at, offer_code, notes, source, ended_at"
    )
    with cursor.copy(f"COPY calls ({call_columns}) FROM STDIN") as copy:
        for i in range(n):
            call_id = i + 1
            at = now - timedelta(seconds=int(started[i]))
            disposition = dispo_keys[dispo[i]]
            ranked = pool[ranked_of[i]]
            shown = _shown(ranked, str(mode[i]), disposition, dice[i])
            accepted = shown[-1] if shown and disposition == "saved_with_offer" else None
            for k, code in enumerate(shown):
                answer = "accepted" if code == accepted else "declined"
                when = at + timedelta(minutes=2 + k)
                presented.append((call_id, code, ranked.codes.index(code) + 1, when, answer, ranked.values[code]))
                kind, cost, model, months = offers[code]
                paid = cost * months if model == "monthly" else cost
                history.append((int(account[i]), code, kind, when, answer, paid if answer == "accepted" else 0))
            score = float(risk[i])
            copy.write_row(
                (
                    call_id,
                    f"bench-{call_id}",
                    int(account[i]),
                    int(agent[i]),
                    at,
                    at + timedelta(seconds=40),
                    str(reason[i]),
                    round(score, 4),
                    "high" if score >= 0.6 else "medium" if score >= 0.3 else "low",
                    "churn-2026.01",
                    "offer-2026.01" if mode[i] != "rules_only" else None,
                    round(float(600 + 4000 * dice[i, 2]), 2),
                    reasons[i % len(reasons)],
                    ranked.json,
                    str(mode[i]),
                    disposition,
                    at + timedelta(minutes=6) if disposition else None,
                    accepted,
                    NOTES[i % len(NOTES)],
                    "desk",
                    at + timedelta(minutes=7) if disposition else None,
                )
            )
    offer_columns = (
        "call_id, offer_code, rank, propensity, p_stay, expected_value, presented_at, response, responded_at"
    )
    with cursor.copy(f"COPY call_offers ({offer_columns}) FROM STDIN") as copy:
        for call_id, code, rank, when, answer, value in presented:
            copy.write_row((call_id, code, rank, 0.9 if rank == 1 else 0.02, 0.6, value, when, answer, when))
    history_columns = "account_id, offer_code, offer_kind, offered_at, response, cost, call_id"
    with cursor.copy(f"COPY offer_history ({history_columns}) FROM STDIN") as copy:
        for (account_id, code, kind, when, answer, cost), (call_id, *_) in zip(history, presented, strict=True):
            copy.write_row((account_id, code, kind, when, answer, cost, call_id))


def _shown(ranked: _Ranked, mode: str, disposition: str | None, dice: np.ndarray) -> list[str]:
    """Which offers the agent presented: none on hold-out calls, usually the top one, sometimes a second."""
    offered = [c for c in ranked.codes if c is not None]
    must = disposition == "saved_with_offer"
    if mode == "holdout" or disposition is None or not offered or (not must and dice[0] < 0.45):
        return []
    top = ranked.codes[0]
    first = top if top is not None and dice[1] < 0.75 else offered[int(dice[2] * len(offered))]
    second = [c for c in offered if c != first]
    return [first, second[0]] if second and dice[1] > 0.8 else [first]


# --- measuring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageFigures:
    label: str
    path: str
    statements: int
    slowest_sql: str
    page_ms: list[float]
    sql_ms: list[float]


def sign_in(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    match = _TOKEN.search(html)
    if match is None:
        raise SystemExit("no CSRF token on /login")
    token = match.group(1) or match.group(2)
    response = client.post("/login", data={"username": SUPERVISOR, "password": PASSWORD, "csrf_token": token})
    if response.status_code not in (302, 303):
        raise SystemExit(f"signing in as {SUPERVISOR} failed ({response.status_code})")


def captured_sql(engine: Any, request: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements (with parameters) one request sends, in order."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _executemany) -> None:  # noqa: ANN001
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return seen


def run_statements(engine: Any, statements: list[tuple[str, Any]]) -> tuple[float, list[float]]:
    """Execute exactly these statements on a pooled DBAPI connection, fetching every row; total and each in ms."""
    raw = engine.raw_connection()
    each = []
    try:
        cursor = raw.cursor()
        begin = time.perf_counter()
        for statement, parameters in statements:
            t = time.perf_counter()
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
            each.append((time.perf_counter() - t) * 1000)
        total = (time.perf_counter() - begin) * 1000
        raw.rollback()
    finally:
        raw.close()
    return total, each


def measure_page(client: Any, engine: Any, label: str, path: str, requests: int) -> PageFigures:
    """Page and bare SQL alternately, ``requests`` times each, after one warm-up request that captures the SQL."""

    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        response.get_data()

    statements = captured_sql(engine, get)
    page_ms, sql_ms = [], []
    slowest = [0.0] * len(statements)
    for _ in range(requests):
        t = time.perf_counter()
        get()
        page_ms.append((time.perf_counter() - t) * 1000)
        total, each = run_statements(engine, statements)
        sql_ms.append(total)
        slowest = [max(a, b) for a, b in zip(slowest, each, strict=True)]
    worst = statements[int(np.argmax(slowest))][0] if statements else ""
    return PageFigures(label, path, len(statements), " ".join(worst.split())[:110], page_ms, sql_ms)


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def rss_mib() -> tuple[float, float]:
    """(current RSS, peak RSS since the last reset) of this process in MiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0), so the peak is the export's alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def export_csv(client: Any, path: str) -> dict[str, float]:
    """Stream the CSV through the app, sampling RSS; nothing of it is kept."""
    before, _ = rss_mib()
    reset = reset_peak_rss()
    sampled = before
    size = lines = chunks = 0
    start = time.perf_counter()
    response = client.get(path, buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    try:
        for chunk in response.iter_encoded():
            size += len(chunk)
            lines += chunk.count(b"\n")
            chunks += 1
            if chunks % 50 == 0:
                sampled = max(sampled, rss_mib()[0])
    finally:
        response.close()
    seconds = time.perf_counter() - start
    current, peak = rss_mib()
    if not reset:  # the lifetime peak then; it can only overstate the export's
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "before": before,
        "peak": max(peak, sampled),
        "after": current,
        "mib": size / 2**20,
        "rows": lines - 1,
        "seconds": seconds,
        "reset": float(reset),
    }


def pages(last_day: date) -> list[tuple[str, str]]:
    month_ago = last_day - timedelta(days=29)
    return [
        ("dashboard (default: 90 days by week)", "/supervise/dashboard"),
        ("dashboard by offer", "/supervise/dashboard?group=offer"),
        (
            "log: 30 days, team, cancelled",
            f"/supervise/calls?from={month_ago}&to={last_day}&team=Desk+Bergen&disposition=cancelled",
        ),
        ("log: offer DISC20, high risk", "/supervise/calls?offer=DISC20&band=high"),
        ("log: reason price, by risk, page 3", "/supervise/calls?reason=price&sort=risk&dir=desc&page=3"),
    ]


def measure(url: str, requests: int, dashboard_requests: int, csv: bool) -> None:
    from retention_desk import create_app
    from retention_desk.config import test_settings

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(test_settings(url, Path(folder)))
        client = app.test_client()
        sign_in(client)
        engine = get_engine(url)
        last_day = datetime.now(UTC).date()
        results = []
        for label, path in pages(last_day):
            n = dashboard_requests if "dashboard" in path else requests
            results.append(measure_page(client, engine, label, path, n))
            print(f"  measured {label} ({n} requests)", flush=True)
        print()
        print(
            f"{'page':<38} {'n':>3} {'stmts':>5} {'page p50':>9} {'p95':>8} {'SQL p50':>8} {'p95':>8} {'ratio':>6}"
            f" {'app p50':>8}"
        )
        for r in results:
            page50, page95 = p50_p95(r.page_ms)
            sql50, sql95 = p50_p95(r.sql_ms)
            ratio = page50 / sql50 if sql50 else float("inf")
            flag = "" if ratio <= ACCEPTANCE_RATIO else "  > 2x"
            print(
                f"{r.label:<38} {len(r.page_ms):>3} {r.statements:>5} {page50:>8.1f}ms {page95:>6.1f}ms "
                f"{sql50:>6.1f}ms {sql95:>6.1f}ms {ratio:>5.2f}x {page50 - sql50:>6.1f}ms{flag}"
            )
        print("\nslowest statement of each page (max over the runs):")
        for r in results:
            print(f"  {r.label}: {r.slowest_sql}")
        if csv:
            print("\nstreaming the CSV export of every call ...", flush=True)
            figures = export_csv(client, "/supervise/calls.csv")
            how = "high-water mark reset before the export" if figures["reset"] else "lifetime ru_maxrss"
            print(
                f"CSV export: {figures['rows']:,.0f} rows, {figures['mib']:.0f} MiB in {figures['seconds']:.0f} s "
                f"({figures['rows'] / figures['seconds']:,.0f} rows/s)\n"
                f"  RSS before {figures['before']:.0f} MiB, peak during {figures['peak']:.0f} MiB ({how}), "
                f"after {figures['after']:.0f} MiB: grew {figures['peak'] - figures['before']:.0f} MiB "
                f"for a {figures['mib']:.0f} MiB file"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="PostgreSQL server URL; a database is created and dropped")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, help="default: one for every seven calls (at least 1,000)")
    parser.add_argument("--requests", type=int, default=20, help="requests per offer-log page")
    parser.add_argument("--dashboard-requests", type=int, default=5, help="requests per dashboard page")
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV export")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    accounts = args.accounts or max(1000, args.calls // 7)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    with postgres_database(args.url) as url:
        migrate.upgrade(url)
        print(f"filling a scratch database with {args.calls:,} calls and {accounts:,} accounts ...", flush=True)
        child = multiprocessing.get_context("spawn").Process(target=fill, args=(url, args.calls, accounts, args.seed))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit("filling the scratch database failed")
        measure(url, args.requests, args.dashboard_requests, not args.no_csv)
        dispose_engines()
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
