"""Concurrent agents driving whole cancellation calls through gunicorn on PostgreSQL; prints latency per step.

    python -m benchmarks.desk_flow --url postgresql://postgres@127.0.0.1:5432/test --accounts 1000000 --agents 32
    python -m benchmarks.desk_flow --url postgresql://postgres@127.0.0.1:5432/test --accounts 20000 --duration 20

It makes its own scratch database (dropped afterwards), seeds the synthetic world, trains the churn and offer models
with ``retention-desk retrain``, creates one agent user per simulated agent and starts gunicorn as the README does.
Each agent signs in and then runs calls back to back, with no think time, exactly as a browser with htmx would send
them (real CSRF tokens and idempotency keys parsed from the pages): search, open account, start call, call page,
choose reason, present, log the answer, close the call. ``GET /healthz`` (no database, no sign-in) is sent once per
call by the same agents, so the trivial endpoint waits in the same queues as the steps; the acceptance line is each
step's p95 under 5x that p95. A short single-agent run first gives each step's time without queueing, for context.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scratch import POSTGRES_ENV, postgres_database  # noqa: E402
from retention_desk.services.seeding import seed_demo_world  # noqa: E402
from retention_desk.services.staff.users import UserIn, create_user  # noqa: E402
from retention_desk.storage import migrate  # noqa: E402
from retention_desk.storage.db import dispose_engines, get_engine, session_scope  # noqa: E402

TRIVIAL = "trivial GET /healthz"
STEPS = (
    "search (live, htmx)",
    "open account",
    "start call (POST)",
    "call page",
    "choose reason (htmx)",
    "present offer (htmx)",
    "log answer (htmx)",
    "close call (htmx)",
)
SEARCH_KINDS = ("phone", "account_no", "email", "surname")
ACCEPTANCE_RATIO = 5.0
PASSWORD = "bench-agent-password"
APP = "retention_desk.wsgi:app"

CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CALL_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
REASON_SELECT = re.compile(r'<select id="reason".*?</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')
PRESENT = re.compile(r'hx-post="(/desk/calls/\d+/offers/([^/"]+)/present)"')
CALL_ID = re.compile(r"/desk/calls/(\d+)")


class FlowError(Exception):
    """A step answered something a browser would not go on from."""


@dataclass
class CallRecord:
    """What the desk told one agent about one call, filled in as the call goes: checked against the database by the
    fault run (benchmarks/desk_faults.py), which must find every call a client was told about exactly as told."""

    account_id: int
    key: str
    call_id: int | None = None  # set once the start answered 303 to the call's page
    accepted: str | None = None  # the offer whose acceptance answered 200
    disposition: str | None = None  # set once closing the call answered 200


@dataclass
class Timings:
    """Latencies in ms per step, and the requests that failed, for one agent (merged at the end)."""

    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    calls: int = 0


class Agent:
    """One signed-in desk agent speaking HTTP/1.1 to gunicorn, one request at a time, like one browser tab."""

    def __init__(
        self,
        port: int,
        username: str,
        rng: random.Random,
        think: float = 0.0,
        password: str = PASSWORD,
        timeout: float = 60.0,
    ) -> None:
        self.port, self.username, self.rng, self.think = port, username, rng, think
        self.password, self.timeout = password, timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.record: Timings | None = None
        self.call: CallRecord | None = None  # the call in progress (or the last one), as the desk answered it

    def request(
        self, step: str | None, method: str, path: str, form: dict[str, str] | None = None, htmx: bool = False
    ) -> tuple[int, dict[str, str], str]:
        headers = {"User-Agent": "desk-flow-benchmark", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": self.csrf})
        if step is not None and self.think > 0:  # the agent reads the screen and talks before the next click
            time.sleep(self.rng.expovariate(1 / self.think))
        body = None
        if form is not None:
            body = "&".join(f"{quote(k)}={quote(v)}" for k, v in form.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if step is not None and self.record is not None:
            self.record.ms[step].append(elapsed)
        return response.status, dict(response.headers), text

    def expect(self, step: str, status: int, wanted: int) -> None:
        if status != wanted:
            if self.record is not None:
                self.record.errors[step] += 1
            raise FlowError(f"{step}: HTTP {status}, expected {wanted}")

    def send(
        self,
        step: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        htmx: bool = False,
        wanted: int = 200,
    ) -> tuple[dict[str, str], str]:
        """One step of the call, sent once: anything but the status a browser goes on from is an error. The fault
        run's agent (benchmarks/desk_faults.py) sends the same request again when its answer was lost."""
        status, headers, text = self.request(step, method, path, form, htmx)
        self.expect(step, status, wanted)
        return headers, text

    def sign_in(self) -> None:
        status, _, page = self.request(None, "GET", "/login")
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None:
            raise FlowError(f"sign-in page: HTTP {status}")
        form = {"csrf_token": token.group(1), "username": self.username, "password": self.password, "next": ""}
        status, headers, _ = self.request(None, "POST", "/login", form)
        if status != 302 or "/login" in headers.get("Location", ""):
            raise FlowError(f"{self.username} could not sign in (HTTP {status})")

    def one_call(self, account: dict[str, str]) -> CallRecord:
        """A whole cancellation call, from the search to the closed call, as htmx sends it; ``self.call`` records
        what the desk answered so far (also when a step fails)."""
        self.send(TRIVIAL, "GET", "/healthz")
        kind, typed = self._query(account)
        self.send(STEPS[0], "GET", f"/desk/search?q={quote(typed)}", htmx=True)
        if self.record is not None:  # the search's time by what was typed, to tell which lookup is slow
            self.record.ms[f"  by {kind}"].append(self.record.ms[STEPS[0]][-1])
        _, page = self.send(STEPS[1], "GET", f"/desk/accounts/{account['id']}")
        self.csrf = _first(CSRF_HEADER, page, "the page's CSRF token")
        key = _first(CALL_KEY, page, "the call's idempotency key")
        self.call = record = CallRecord(account_id=int(account["id"]), key=key)
        form = {"csrf_token": self.csrf, "idempotency_key": key}
        headers, _ = self.send(STEPS[2], "POST", f"/desk/accounts/{account['id']}/calls", form, wanted=303)
        call = _first(CALL_ID, headers.get("Location", ""), "the new call's address")
        record.call_id = int(call)
        _, page = self.send(STEPS[3], "GET", f"/desk/calls/{call}")
        reasons = OPTION.findall(_first(REASON_SELECT, page, "the reason list", group=0))
        form = {"csrf_token": self.csrf, "reason": self.rng.choice(reasons)}
        _, panel = self.send(STEPS[4], "POST", f"/desk/calls/{call}/reason", form, htmx=True)
        accepted = False
        offers = PRESENT.findall(panel)
        if offers:  # a hold-out call has none; the agent goes straight to the outcome
            path, code = offers[0]
            self.send(STEPS[5], "POST", path, {"csrf_token": self.csrf}, htmx=True)
            accepted = self.rng.random() < 0.5
            form = {"csrf_token": self.csrf, "accepted": "yes" if accepted else "no"}
            self.send(STEPS[6], "POST", f"/desk/calls/{call}/offers/{code}/answer", form, htmx=True)
            record.accepted = code if accepted else None
        outcome = "saved_with_offer" if accepted else self.rng.choice(["cancelled", "saved_without_offer", "callback"])
        self.close_call(outcome)
        return record

    def close_call(self, outcome: str) -> None:
        """Close the call in progress with this outcome (the last step of a call, and the fault run's tidying)."""
        assert self.call is not None and self.call.call_id is not None
        form = {"csrf_token": self.csrf, "disposition": outcome, "notes": "benchmark call"}
        self.send(STEPS[7], "POST", f"/desk/calls/{self.call.call_id}/finish", form, htmx=True)
        self.call.disposition = outcome

    def _query(self, account: dict[str, str]) -> tuple[str, str]:
        """What an agent types: the phone number, account number, e-mail or the start of the surname."""
        kind = self.rng.choice(SEARCH_KINDS)
        if kind == "surname" and account["surname"]:
            return kind, account["surname"][:6]
        return (kind, account[kind]) if account.get(kind) else ("account_no", account["account_no"])


def _first(pattern: re.Pattern[str], text: str, what: str, group: int = 1) -> str:
    found = pattern.search(text)
    if found is None:
        raise FlowError(f"no {what} in the response")
    return found.group(group)


def drive(
    port: int, agents: int, accounts: list[dict[str, str]], warmup: float, duration: float, think: float = 0.0
) -> Timings:
    """Run ``agents`` threads of back-to-back calls; keep what finished inside the measured window."""
    start_at = time.perf_counter() + warmup
    stop_at = start_at + duration
    results: list[Timings] = []
    failures: list[str] = []

    def work(number: int) -> None:
        rng = random.Random(number)
        agent = Agent(port, f"bench-agent-{number:02d}", rng, think)
        mine = Timings()
        try:
            agent.sign_in()
        except (FlowError, OSError) as exc:
            failures.append(str(exc))
            return
        while time.perf_counter() < stop_at:
            agent.record = mine if time.perf_counter() >= start_at else Timings()
            try:
                agent.one_call(rng.choice(accounts))
                mine.calls += agent.record is mine
            except (FlowError, OSError) as exc:
                failures.append(str(exc))
        results.append(mine)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(1, agents + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = Timings()
    for part in results:
        merged.calls += part.calls
        for step, values in part.ms.items():
            merged.ms[step].extend(values)
        for step, count in part.errors.items():
            merged.errors[step] += count
    if failures:
        print(f"  {len(failures)} failed calls; first: {failures[0]}")
    return merged


def print_table(title: str, timings: Timings, duration: float) -> dict[str, float]:
    """p50/p95/p99 per step and p95 against the trivial endpoint's p95; returns the ratios."""
    print(f"\n{title}: {timings.calls:,} calls in {duration:.0f} s ({timings.calls * 60 / duration:,.0f} calls/min)")
    print(f"{'step':<24} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95/trivial':>11} {'errors':>6}")
    base = np.percentile(timings.ms[TRIVIAL], 95) if timings.ms[TRIVIAL] else float("nan")
    ratios = {}
    for step in (TRIVIAL, STEPS[0], *(f"  by {kind}" for kind in SEARCH_KINDS), *STEPS[1:]):
        values = timings.ms.get(step, [])
        if not values:
            print(f"{step:<24} {0:>8}")
            continue
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        if not step.startswith(" "):
            ratios[step] = p95 / base
        print(
            f"{step:<24} {len(values):>8,} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {p95 / base:>10.2f}x "
            f"{timings.errors.get(step, 0):>6}"
        )
    return ratios


def prepare(url: str, accounts: int, seed: int, agents: int, env: dict[str, str]) -> None:
    """Migrate, seed the world, train both models (the nightly job) and create the benchmark's agents."""
    migrate.upgrade(url)
    summary = seed_demo_world(url=url, accounts=accounts, seed=seed, as_of=date.today(), demo_users=True)
    print(summary.describe().splitlines()[0], flush=True)
    started = time.perf_counter()
    retrain = [sys.executable, "-m", "retention_desk", "retrain", "--quiet"]
    done = subprocess.run(retrain, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"retention-desk retrain failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip())
    print(f"retrain took {time.perf_counter() - started:.1f} s", flush=True)
    with session_scope(url) as session:
        for n in range(1, agents + 1):
            create_user(session=session, user_in=UserIn(username=f"bench-agent-{n:02d}", password=PASSWORD))


def sample_accounts(url: str, size: int) -> list[dict[str, str]]:
    """Active accounts spread over the whole base, with what an agent could type to find each."""
    sql = (
        "SELECT id, account_no, phone, email, surname_search FROM accounts TABLESAMPLE SYSTEM (5) "
        "WHERE status = 'active' LIMIT :size"
    )
    from sqlalchemy import text

    with get_engine(url).connect() as conn:
        rows = conn.execute(text(sql), {"size": size}).all()
    keys = ("id", "account_no", "phone", "email", "surname")
    return [dict(zip(keys, (str(v or "") for v in row), strict=True)) for row in rows]


def start_gunicorn(workers: int, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn as the README runs it, on a free local port; returns when /readyz says the desk can serve."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", APP]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not become ready:\n{log.read_text()[-3000:]}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


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
    server, port = start_gunicorn(args.workers, env, folder / "gunicorn.log")
    try:
        print(f"gunicorn --workers {args.workers} on port {port}; {load()}", flush=True)
        if args.solo > 0:
            solo = drive(port, 1, accounts, warmup=args.warmup, duration=args.solo)
            print_table("One agent alone (no queueing)", solo, args.solo)
        print(f"\n{load()} before the concurrent run", flush=True)
        timings = drive(port, args.agents, accounts, warmup=args.warmup, duration=args.duration)
        title = f"{args.agents} concurrent agents, no pauses, gunicorn --workers {args.workers}"
        ratios = print_table(title, timings, args.duration)
        print(f"{load()} after it", flush=True)
        if args.think > 0:
            paced = drive(port, args.agents, accounts, args.warmup, args.duration, think=args.think)
            title = f"{args.agents} agents pausing {args.think:g} s on average before each request"
            print_table(title, paced, args.duration)
            print(f"{load()} after it", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    worst = max((r for step, r in ratios.items() if step != TRIVIAL), default=float("nan"))
    passed = worst < ACCEPTANCE_RATIO and not any(timings.errors.values())
    print(f"\nworst p95 ratio {worst:.2f}x (acceptance: under {ACCEPTANCE_RATIO:g}x): {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get(POSTGRES_ENV), help="PostgreSQL server (scratch DB made there)")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds of the concurrent run")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds run before measuring")
    parser.add_argument("--solo", type=float, default=15.0, help="seconds of the single-agent run (0: skip)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="also run with this mean pause (s) before each request (0: skip)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README's production line)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.url:
        parser.error(f"give --url postgresql://… (or set {POSTGRES_ENV}): the benchmark needs a PostgreSQL server")
    print(f"desk flow: {args.accounts:,} accounts, {args.agents} agents, {load()}", flush=True)
    with tempfile.TemporaryDirectory() as folder, postgres_database(args.url) as url:
        passed = run(args, url, Path(folder))
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
