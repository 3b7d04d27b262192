"""Nothing lost, nobody in: whole calls over HTTP while every database connection is killed, on PostgreSQL.

Agents sign in and run whole cancellation calls against the app served on 127.0.0.1 (a threaded werkzeug server
in this process), each with its own cookie jar, while another thread ends every connection of the database three
times. A killed connection mostly fails a step before it commits; so that "stored, but the agent never heard" is
certain too, every few POSTs the server carries the step out in full and then drops the connection without an
answer. An agent whose answer was lost or was a server error sends the same request again, as a browser would when
the agent clicks again. Afterwards the database must hold every call exactly as the agents were told: started
once, at most one accepted offer with one offer-history row, closed as told, none left open. The agents, the
killing and the checks are benchmarks/desk_faults.py's; this test runs them smaller and against the app in this
process, where the ranking's draws are fixed (so every call takes the ordinary path: reason, offer, answer, close).

The last test pins down one fault the runs met: the database ending a connection after the view had answered,
before the request closed its session, turned the finished answer into a server error.

SQLite runs one writer in one file and has no connections to kill: these tests run on PostgreSQL only.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from sqlalchemy import text
from sqlmodel import Session, select
from werkzeug.serving import make_server

from benchmarks.desk_faults import FaultRun, audit, kill_connections, run_under_faults
from benchmarks.desk_flow import PASSWORD, STEPS
from retention_desk import create_app
from retention_desk.config import Settings, test_settings
from retention_desk.services.models.nightly import retrain_churn_model
from retention_desk.services.seeding import seed_demo_world
from retention_desk.services.staff.users import UserIn, create_user
from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account, Call
from retention_desk.web.context import db_session
from tests.call_world import fix_draws, owned_account
from tests.databases import temporary_database
from tests.web.sign_in_helpers import log_in

pytestmark = pytest.mark.slow

ACCOUNTS = 2000  # a world of its own: the kills, cancellations and budgets spent stay out of the shared one
AGENTS = 6
DURATION = 15.0
KILLS_AT = [4.0, 8.0, 12.0]
PATIENCE = 30.0  # seconds an agent retries one step before the test calls it a request that hangs
LOSE_EVERY = 7  # every 7th POST is done and its answer lost


class LosesAnswers:
    """WSGI middleware: every ``every``-th POST is carried out in full (the view has committed) and then its answer
    is lost, the connection closed before a byte of it is sent, as a dropped network would do to a browser."""

    def __init__(self, app: Callable[..., Iterable[bytes]], every: int) -> None:
        self.app, self.every = app, every
        self.posts = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or not self._due():
            return self.app(environ, start_response)
        body = self.app(environ, lambda *_args: lambda _data: None)
        try:
            for _chunk in body:
                pass
        finally:
            getattr(body, "close", lambda: None)()
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("the answer was lost on its way back")  # werkzeug: a dropped connection

    def _due(self) -> bool:
        with self.lock:
            self.posts += 1
            return self.posts % self.every == 0


@pytest.fixture()
def fault_world(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """A seeded world with a trained churn model and the agents' logins, in a database of its own."""
    if backend == "sqlite":
        pytest.skip("SQLite has one writer and no server connections to kill: faults under load need PostgreSQL")
    with temporary_database(backend, tmp_path) as url:
        migrate.upgrade(url)
        seed_demo_world(url=url, accounts=ACCOUNTS, seed=23, as_of=None)
        settings = test_settings(url, tmp_path)
        retrain_churn_model(settings=settings)
        with Session(get_engine(url)) as session:
            for name in agent_names():
                create_user(session=session, user_in=UserIn(username=name, password=PASSWORD))
            session.commit()
        yield settings


@pytest.fixture()
def served(fault_world: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The world's app on a free local port, losing some answers; the ranking takes the best action on every call."""
    fix_draws(monkeypatch)
    server = make_server("127.0.0.1", 0, LosesAnswers(create_app(fault_world), LOSE_EVERY), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fault-app", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def agent_names() -> list[str]:
    return [f"fault-agent-{n}" for n in range(1, AGENTS + 1)]


def searchable_accounts(url: str) -> list[dict[str, str]]:
    """What an agent could type to find each active account, as the benchmark's agents take it."""
    with Session(get_engine(url)) as session:
        rows = session.exec(
            select(Account.id, Account.account_no, Account.phone, Account.email, Account.surname_search).where(
                Account.status == "active"
            )
        ).all()
    keys = ("id", "account_no", "phone", "email", "surname")
    return [dict(zip(keys, (str(v or "") for v in row), strict=True)) for row in rows]


def test_calls_survive_every_connection_killed_under_load(fault_world: Settings, served: int) -> None:
    url = fault_world.database_url
    run = run_under_faults(
        port=served,
        url=url,
        usernames=agent_names(),
        accounts=searchable_accounts(url),
        duration=DURATION,
        kills_at=KILLS_AT,
        patience=PATIENCE,
    )
    verdict = audit(url, agent_names(), run.log.records)
    seen = _what_the_agents_met(run)

    assert run.stuck_agents == 0 and not run.log.failures, seen  # every step got a definite answer
    assert len(run.kills) == len(KILLS_AT) and all(ended > 0 for _, ended in run.kills), seen
    assert run.log.lost[STEPS[2]] and run.log.lost[STEPS[6]] and run.log.lost[STEPS[7]], seen  # retried after commit
    assert verdict.started >= AGENTS and verdict.closed == verdict.started, seen
    assert any(r.accepted for r in run.log.records), seen  # acceptances were among what was checked
    assert verdict.lost == [], seen
    assert verdict.duplicated == [] and verdict.unconfirmed == [], seen
    assert verdict.double_accepted == [] and verdict.acceptance_wrong == [], seen
    assert verdict.closing_wrong == [] and verdict.left_open == [], seen


def _what_the_agents_met(run: FaultRun) -> str:
    log = run.log
    return (
        f"kills {run.kills}; calls {len(log.records)}; 5xx {dict(log.server_errors)}; lost {dict(log.lost)}; "
        f"time-outs {dict(log.timeouts)}; retried {dict(log.retried)}; not finished {log.failures[:5]}"
    )


def test_a_request_whose_connection_is_ended_after_its_view_ran_answers_as_usual(
    world_app: Flask, world_settings: Settings
) -> None:
    """The view has answered (and committed what it stores); the database then ends the connection before the request
    closes its session. Closing must not turn the finished answer into a server error: the transaction ended with the
    connection, there is nothing left to roll back."""
    if world_settings.is_sqlite:
        pytest.skip("SQLite has no server connections to end: this fault exists only on PostgreSQL")
    ending = {"on": False}

    @world_app.after_request
    def end_the_connection(response: Response) -> Response:
        if ending["on"]:
            db_session().execute(text("SELECT 1"))  # the request holds a connection, inside a transaction
            kill_connections(world_settings.database_url)
        return response

    account_id = owned_account(world_settings)
    client = world_app.test_client()
    log_in(client, "agent", "agent-demo-1")
    ending["on"] = True
    page = client.get(f"/desk/accounts/{account_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    started = client.post(f"/desk/accounts/{account_id}/calls", data={"idempotency_key": key, "csrf_token": token})
    assert started.status_code == 303
    call_id = int(started.headers["Location"].rsplit("/", 1)[1])
    closed = client.post(f"/desk/calls/{call_id}/finish", data={"disposition": "callback", "csrf_token": token})
    assert closed.status_code == 303
    with Session(get_engine(world_settings.database_url)) as session:
        calls = session.exec(select(Call).where(Call.idempotency_key == key)).all()
    assert [(c.id, c.disposition) for c in calls] == [(call_id, "callback")]
