"""Connections killed under load: concurrent agents run whole calls through gunicorn on PostgreSQL while every
database connection is ended twice; then the database must hold every call exactly as the agents were told.

    python -m benchmarks.desk_faults --url postgresql://postgres@127.0.0.1:5432/test
    python -m benchmarks.desk_faults --url postgresql://postgres@127.0.0.1:5432/test --accounts 2000 --duration 20 \\
        --kills 7,14

It makes its own scratch database (dropped afterwards), seeds the synthetic world, trains both models and starts
gunicorn as the README does, exactly like benchmarks/desk_flow.py, whose agents it reuses. Each agent here is
patient: when a step's answer is lost (connection dropped, a time-out) or is a server error, it sends the very same
request again (same idempotency key, same form), as an agent clicking again would, until the desk gives a definite
answer. Meanwhile another thread runs ``pg_terminate_backend`` on every connection of the database at the given
moments. Afterwards, from the database: every call an agent was told was started (303 to its page) exists exactly
once under its key; no call has more than one accepted offer, the call names the accepted one and its offer history
has exactly one row for it; every call an agent was told was closed has that disposition; no call is left open.
The exit status is 0 only if all of that holds. tests/integration/test_faults.py runs the same agents and checks
against the app in the test process.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.desk_flow import (  # noqa: E402
    PASSWORD,
    STEPS,
    TRIVIAL,
    Agent,
    CallRecord,
    FlowError,
    load,
    prepare,
    sample_accounts,
    start_gunicorn,
)
from benchmarks.scratch import POSTGRES_ENV, postgres_database  # noqa: E402
from retention_desk.storage.db import dispose_engines, get_engine, normalise_url  # noqa: E402

KILL_SQL = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
SIGN_IN = "sign in"
HTMX_TIMEOUT = 15.0  # seconds: the desk's htmx gives up on a request after this long (desk.js), so does the agent
AROUND_KILL = (-1.0, 3.0)  # a step that started this close to a kill (seconds before, after) may have met it
TIDY_OUTCOME = "callback"  # how an agent closes a call it could not finish, so no call is left open


@dataclass
class FaultLog:
    """What patient agents met, per step: answers lost (connection dropped), time-outs, server errors (5xx),
    repeats of the same request, and each step's time to its definite answer with the moment it started."""

    lost: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timeouts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    server_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retried: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    records: list[CallRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def merge(self, other: FaultLog) -> None:
        for mine, theirs in (
            (self.lost, other.lost),
            (self.timeouts, other.timeouts),
            (self.server_errors, other.server_errors),
            (self.retried, other.retried),
        ):
            for step, count in theirs.items():
                mine[step] += count
        for step, values in other.answered.items():
            self.answered[step].extend(values)
        self.records.extend(other.records)
        self.failures.extend(other.failures)


class PatientAgent(Agent):
    """An agent who clicks again: a step whose answer was lost or was a server error is sent again, the same
    request with the same key, until the desk answers something definite (or ``patience`` seconds have passed,
    which counts as a request that hangs)."""

    def __init__(
        self,
        port: int,
        username: str,
        rng: random.Random,
        log: FaultLog,
        *,
        password: str = PASSWORD,
        patience: float = 60.0,
    ) -> None:
        super().__init__(port, username, rng, password=password, timeout=HTMX_TIMEOUT)
        self.log, self.patience = log, patience

    def send(
        self,
        step: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        htmx: bool = False,
        wanted: int = 200,
    ) -> tuple[dict[str, str], str]:
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                status, headers, page = self.request(step, method, path, form, htmx)
            except TimeoutError:
                self.log.timeouts[step] += 1
            except (OSError, http.client.HTTPException):
                self.log.lost[step] += 1
            else:
                if status < 500:
                    self.expect(step, status, wanted)
                    self.log.answered[step].append((started, (time.perf_counter() - started) * 1000))
                    return headers, page
                self.log.server_errors[step] += 1
            if time.perf_counter() - started > self.patience:
                raise FlowError(f"{step}: no definite answer in {self.patience:g} s")
            attempt += 1
            self.log.retried[step] += 1
            time.sleep(min(2.0, 0.2 * attempt))  # the agent sees the banner and clicks again

    def sign_in(self) -> None:
        """Signing in again when the answer was lost or a server error, within the same patience."""
        started = time.perf_counter()
        while True:
            try:
                super().sign_in()
                self.log.answered[SIGN_IN].append((started, (time.perf_counter() - started) * 1000))
                return
            except (FlowError, OSError, http.client.HTTPException) as exc:
                if time.perf_counter() - started > self.patience:
                    raise FlowError(f"{self.username} could not sign in: {exc}") from exc
                self.log.retried[SIGN_IN] += 1
                time.sleep(0.5)


@dataclass
class FaultRun:
    """A run of patient agents with connections killed: what they met and when each kill happened."""

    log: FaultLog
    started: float  # perf_counter at the start, the clock of ``log.answered``
    kills: list[tuple[float, int]]  # (seconds after the start, connections ended)
    seconds: float
    stuck_agents: int  # agent threads still running when the run was given up on


def kill_connections(url: str) -> int:
    """End every connection of the database but this one, as a failover or a DBA's hand would; returns how many."""
    parsed = make_url(normalise_url(url))
    engine = create_engine(parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return sum(1 for ok in conn.execute(text(KILL_SQL), {"db": parsed.database}).scalars() if ok)
    finally:
        engine.dispose()


def run_under_faults(
    *,
    port: int,
    url: str,
    usernames: list[str],
    accounts: list[dict[str, str]],
    duration: float,
    kills_at: list[float],
    password: str = PASSWORD,
    patience: float = 60.0,
    seed: int = 0,
) -> FaultRun:
    """Patient agents run whole calls back to back for ``duration`` seconds (each finishes the call it is in), while
    every connection of the database is killed at each of ``kills_at`` seconds. A call an agent could not finish is
    closed as a callback, so the run leaves no call open."""
    started = time.perf_counter()
    stop_at = started + duration
    done = threading.Event()
    kills: list[tuple[float, int]] = []
    logs: list[FaultLog] = []

    def killer() -> None:
        for at in sorted(kills_at):
            if done.wait(max(0.0, started + at - time.perf_counter())):
                return
            kills.append((time.perf_counter() - started, kill_connections(url)))

    def work(number: int, username: str) -> None:
        log = FaultLog()
        logs.append(log)
        rng = random.Random(seed * 1000 + number)
        agent = PatientAgent(port, username, rng, log, password=password, patience=patience)
        try:
            agent.sign_in()
        except FlowError as exc:
            log.failures.append(str(exc))
            return
        while time.perf_counter() < stop_at:
            agent.call = None
            try:
                agent.one_call(rng.choice(accounts))
            except FlowError as exc:
                log.failures.append(str(exc))
                _tidy(agent, log)
            if agent.call is not None:
                log.records.append(agent.call)

    kill_thread = threading.Thread(target=killer, name="connection-killer", daemon=True)
    kill_thread.start()
    agents = [
        threading.Thread(target=work, args=(n, name), name=f"agent-{n}", daemon=True)
        for n, name in enumerate(usernames, start=1)
    ]
    for thread in agents:
        thread.start()
    give_up_at = stop_at + 8 * patience  # a call has eight steps, each given ``patience`` at most
    for thread in agents:
        thread.join(timeout=max(0.0, give_up_at - time.perf_counter()))
    done.set()
    kill_thread.join(timeout=30)
    merged = FaultLog()
    for log in list(logs):
        merged.merge(log)
    stuck = sum(thread.is_alive() for thread in agents)
    seconds = time.perf_counter() - started
    return FaultRun(log=merged, started=started, kills=kills, seconds=seconds, stuck_agents=stuck)


def _tidy(agent: PatientAgent, log: FaultLog) -> None:
    """Close a started call the agent could not finish, so the run leaves no call open."""
    record = agent.call
    if record is None or record.call_id is None or record.disposition is not None:
        return
    try:
        agent.close_call(TIDY_OUTCOME)
    except FlowError as exc:
        log.failures.append(f"closing call {record.call_id} after a failed step: {exc}")


@dataclass
class Verdict:
    """The database against what the agents were told; each list names the calls (keys or ids) that are wrong."""

    started: int
    closed: int
    lost: list[str]  # told started (303 to its page), not stored under its key
    duplicated: list[str]  # a key stored more than once, or a 303 to another call than the key's
    unconfirmed: list[str]  # stored under a key no agent was ever told had started (the agent gave up)
    double_accepted: list[int]  # more than one accepted offer on a call
    acceptance_wrong: list[int]  # the call's offer_code, its offer history or the agent's 200 disagree
    closing_wrong: list[int]  # told closed with a disposition, stored otherwise
    left_open: list[int]  # calls of the agents still open at the end

    @property
    def ok(self) -> bool:
        return not any(
            (
                self.lost,
                self.duplicated,
                self.unconfirmed,
                self.double_accepted,
                self.acceptance_wrong,
                self.closing_wrong,
                self.left_open,
            )
        )

    def lines(self) -> list[str]:
        return [
            f"calls lost: {len(self.lost)}",
            f"calls duplicated: {len(self.duplicated)}",
            f"offers double-accepted: {len(self.double_accepted)}",
            f"calls stored that no agent was told had started: {len(self.unconfirmed)}",
            f"acceptances not stored as told (offer_code, offer history): {len(self.acceptance_wrong)}",
            f"closings not stored as told: {len(self.closing_wrong)}",
            f"calls left open: {len(self.left_open)}",
        ]


def audit(url: str, usernames: list[str], records: list[CallRecord]) -> Verdict:
    """Read the agents' calls, their accepted offers and offer history back from the database and compare them
    with what each agent was told."""
    calls_sql = text(
        "SELECT c.id, c.idempotency_key, c.disposition, c.offer_code FROM calls c JOIN users u ON u.id = c.agent_id "
        "WHERE u.username IN :names"
    ).bindparams(bindparam("names", expanding=True))
    accepted_sql = text(
        "SELECT o.call_id, o.offer_code FROM call_offers o JOIN calls c ON c.id = o.call_id "
        "JOIN users u ON u.id = c.agent_id WHERE u.username IN :names AND o.response = 'accepted'"
    ).bindparams(bindparam("names", expanding=True))
    history_sql = text(
        "SELECT h.call_id, h.offer_code, count(*) FROM offer_history h JOIN calls c ON c.id = h.call_id "
        "JOIN users u ON u.id = c.agent_id WHERE u.username IN :names AND h.response = 'accepted' "
        "GROUP BY h.call_id, h.offer_code"
    ).bindparams(bindparam("names", expanding=True))
    with get_engine(url).connect() as conn:
        calls = conn.execute(calls_sql, {"names": usernames}).all()
        accepted_rows = conn.execute(accepted_sql, {"names": usernames}).all()
        history_rows = conn.execute(history_sql, {"names": usernames}).all()

    by_key: dict[str, list[int]] = defaultdict(list)
    stored: dict[int, tuple[str | None, str | None]] = {}  # id -> (disposition, offer_code)
    for call_id, key, disposition, offer_code in calls:
        by_key[key].append(call_id)
        stored[call_id] = (disposition, offer_code)
    accepted: dict[int, list[str]] = defaultdict(list)
    for call_id, code in accepted_rows:
        accepted[call_id].append(code)
    history: dict[int, dict[str, int]] = defaultdict(dict)
    for call_id, code, count in history_rows:
        history[call_id][code] = count

    told_started = [r for r in records if r.call_id is not None]
    told_keys = {r.key for r in told_started}
    lost = [r.key for r in told_started if r.key not in by_key]
    duplicated = [key for key, ids in by_key.items() if len(ids) > 1]
    duplicated += [r.key for r in told_started if r.key in by_key and by_key[r.key] != [r.call_id]]
    unconfirmed = [key for key in by_key if key not in told_keys]
    double_accepted = sorted(call_id for call_id, codes in accepted.items() if len(codes) > 1)
    acceptance_wrong = set()
    for call_id, (_disposition, offer_code) in stored.items():
        codes = accepted.get(call_id, [])
        if offer_code != (codes[0] if len(codes) == 1 else None) and call_id not in double_accepted:
            acceptance_wrong.add(call_id)
        if history.get(call_id, {}) != {code: 1 for code in codes}:
            acceptance_wrong.add(call_id)
    closing_wrong = []
    for record in told_started:
        if record.call_id not in stored:
            continue
        disposition, offer_code = stored[record.call_id]
        if record.disposition is not None and disposition != record.disposition:
            closing_wrong.append(record.call_id)
        if record.accepted is not None and disposition != "cancelled" and offer_code != record.accepted:
            acceptance_wrong.add(record.call_id)
    return Verdict(
        started=len(told_started),
        closed=sum(r.disposition is not None for r in records),
        lost=lost,
        duplicated=duplicated,
        unconfirmed=unconfirmed,
        double_accepted=double_accepted,
        acceptance_wrong=sorted(acceptance_wrong),
        closing_wrong=closing_wrong,
        left_open=sorted(call_id for call_id, (disposition, _) in stored.items() if disposition is None),
    )


def logged_errors(gunicorn_log: Path) -> tuple[int, int]:
    """(errors the app logged from a view, errors that escaped the app to gunicorn): the second kind means a fault
    struck where the app could not answer for it, e.g. while closing a request's session."""
    lines = gunicorn_log.read_text(errors="replace").splitlines() if gunicorn_log.exists() else []
    in_views = sum("ERROR in app: Exception on" in line for line in lines)
    escaped = sum("[ERROR] Error handling request" in line for line in lines)
    return in_views, escaped


def print_run(run: FaultRun, verdict: Verdict) -> None:
    """The figures: calls, kills, what the agents met per step, latency away from and near a kill, the verdict."""
    log = run.log
    accepted = sum(r.accepted is not None for r in log.records)
    print(f"\n{run.seconds:.0f} s; calls started {verdict.started:,}, calls closed {verdict.closed:,}, ", end="")
    print(f"offers accepted {accepted:,}")
    for at, ended in run.kills:
        print(f"  connections killed at {at:5.1f} s: {ended}")
    total = {name: sum(counts.values()) for name, counts in (("retried", log.retried), ("5xx", log.server_errors))}
    lost, timeouts = sum(log.lost.values()), sum(log.timeouts.values())
    print(f"steps retried {total['retried']}, server errors (5xx) {total['5xx']}, answers lost {lost}, ", end="")
    print(f"time-outs ({HTMX_TIMEOUT:g} s) {timeouts}, calls not finished {len(log.failures)}")
    for failure in log.failures[:5]:
        print(f"  not finished: {failure}")
    if run.stuck_agents:
        print(f"  agents still waiting for an answer when the run was given up on: {run.stuck_agents}")
    kill_times = [run.started + at for at, _ in run.kills]
    lo, hi = AROUND_KILL
    print(
        f"\n{'step':<24} {'5xx':>5} {'lost':>5} {'retried':>7}   {'away from kills p50/p95 ms':>27}   "
        f"{f'{-lo:g} s before to {hi:g} s after a kill p50/p95 ms':>40}"
    )
    for step in (SIGN_IN, TRIVIAL, *STEPS):
        answered = log.answered.get(step, [])
        near = [ms for at, ms in answered if any(k + lo <= at < k + hi for k in kill_times)]
        away = [ms for at, ms in answered if not any(k + lo <= at < k + hi for k in kill_times)]
        print(
            f"{step:<24} {log.server_errors.get(step, 0):>5} {log.lost.get(step, 0) + log.timeouts.get(step, 0):>5} "
            f"{log.retried.get(step, 0):>7}   {_p50_p95(away):>27}   {_p50_p95(near):>40}"
        )
    print()
    for line in verdict.lines():
        print(line)


def _p50_p95(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:,.0f} / {p95:,.0f} ({len(values)})"


def run(args: argparse.Namespace, url: str, folder: Path) -> bool:
    env = {
        **os.environ,
        "RETENTION_DESK_DATABASE_URL": url,
        "RETENTION_DESK_MODEL_DIR": str(folder / "models"),
        "RETENTION_DESK_INSTANCE_PATH": str(folder / "instance"),
        "RETENTION_DESK_SECRET_KEY": secrets.token_hex(32),
        "OMP_NUM_THREADS": "1",
    }
    started = time.perf_counter()
    prepare(url, args.accounts, args.seed, args.agents, env)
    accounts = sample_accounts(url, 20_000)
    dispose_engines()
    print(f"desk ready in {time.perf_counter() - started:.0f} s; {len(accounts):,} sampled active accounts")
    usernames = [f"bench-agent-{n:02d}" for n in range(1, args.agents + 1)]
    server, port = start_gunicorn(args.workers, env, folder / "gunicorn.log")
    try:
        print(f"gunicorn --workers {args.workers} on port {port}; {load()}", flush=True)
        kills_at = [float(at) for at in args.kills.split(",") if at.strip()]
        print(f"{args.agents} patient agents for {args.duration:g} s; every connection killed at {kills_at} s")
        fault_run = run_under_faults(
            port=port,
            url=url,
            usernames=usernames,
            accounts=accounts,
            duration=args.duration,
            kills_at=kills_at,
            patience=args.patience,
            seed=args.seed,
        )
        print(f"{load()} after it", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    verdict = audit(url, usernames, fault_run.log.records)
    print_run(fault_run, verdict)
    in_views, escaped = logged_errors(folder / "gunicorn.log")
    print(f"gunicorn's log: {in_views} exceptions in views, {escaped} that escaped the app")
    passed = verdict.ok and not fault_run.log.failures and not fault_run.stuck_agents
    print(f"\nnothing lost, nothing doubled, nothing left open: {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get(POSTGRES_ENV), help="PostgreSQL server (scratch DB made there)")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds the agents start new calls")
    parser.add_argument("--kills", default="20,40", help="seconds into the run at which every connection is killed")
    parser.add_argument("--patience", type=float, default=60.0, help="seconds an agent retries one step at most")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's production line)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.url:
        parser.error(f"give --url postgresql://… (or set {POSTGRES_ENV}): the run needs a PostgreSQL server")
    print(f"desk faults: {args.accounts:,} accounts, {args.agents} agents, {load()}", flush=True)
    with tempfile.TemporaryDirectory() as folder, postgres_database(args.url) as url:
        passed = run(args, url, Path(folder))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
