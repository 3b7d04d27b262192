"""The audit log by account ("who looked at this subscriber?") and its CSV: filtered like the page, streamed through a
session of its own that is closed when the stream ends or the client leaves, every text cell safe in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from retention_desk.services.audit import Viewer, record_account_view, record_event
from retention_desk.storage.db import get_engine
from tests.web.sign_in_helpers import log_in
from tests.web.supervise_helpers import add_person, logged_desk

HOSTILE = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.fixture()
def desk(client, session) -> dict[str, int]:
    ids = logged_desk(session)
    for account, username in ((ids["acc1"], "anna"), (ids["acc1"], "bo"), (ids["acc2"], "bo")):
        viewer = Viewer(user_id=ids[username], username=username, route=f"GET /desk/accounts/{account}", ip="10.1.1.1")
        record_account_view(session=session, account_id=account, viewer=viewer)
    session.commit()
    log_in(client, "siri")
    return ids


def rows_of(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


def idle_in_transaction(url: str) -> int:
    """Connections to the test database left inside a transaction (PostgreSQL's view of every backend)."""
    with get_engine(url).connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()


def test_the_log_filtered_by_account_number_or_id_shows_who_opened_it(client, desk):
    by_number = client.get("/supervise/audit?account=A-1").get_data(as_text=True)
    assert "account A-1" in by_number and by_number.count("<code>account_viewed</code>") == 2
    assert f"GET /desk/accounts/{desk['acc2']}" not in by_number
    assert ">anna<" in by_number and ">bo<" in by_number
    by_id = client.get(f"/supervise/audit?account={desk['acc2']}").get_data(as_text=True)
    assert by_id.count("<code>account_viewed</code>") == 1 and "account A-2" in by_id


def test_an_unknown_account_is_said_and_shows_no_rows(client, desk):
    response = client.get("/supervise/audit?account=NOPE")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "No account has the number or id &#39;NOPE&#39;." in html
    assert "<code>" not in html
    assert client.get("/supervise/audit.csv?account=NOPE").status_code == 400


def test_agents_cannot_export_the_audit_log(app, session, desk):
    add_person(session, "ulf", "agent")
    agent = app.test_client()
    log_in(agent, "ulf")
    assert agent.get("/supervise/audit.csv").status_code == 403


def test_the_csv_holds_the_filtered_rows_with_every_text_cell_escaped(client, session, desk):
    for value in HOSTILE:
        record_event(
            session=session,
            action="account_viewed",
            actor_name=value,
            entity_type="account",
            entity_id=str(desk["acc1"]),
            ip=value,
            detail=value,
        )
    session.commit()
    response = client.get("/supervise/audit.csv?account=A-1")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    header, *rows = rows_of(response.get_data(as_text=True))
    assert header == ["at", "user", "action", "entity_type", "entity_id", "address", "detail", "before", "after"]
    assert len(rows) == 2 + len(HOSTILE)
    assert {r[4] for r in rows} == {str(desk["acc1"])}
    hostile = [r for r in rows if r[1] not in ("anna", "bo")]
    assert sorted(r[1] for r in hostile) == sorted("'" + value for value in HOSTILE)
    for row in hostile:
        assert row[5] == row[6] == row[1]  # address and detail escaped the same way
    assert all(r[0].endswith("+00:00") for r in rows)  # times in UTC


def test_the_export_streams_on_its_own_session_and_leaves_no_transaction_open(client, session, desk, db_url, backend):
    viewer = Viewer(user_id=desk["anna"], username="anna", route="GET /desk/accounts/1")
    for _ in range(2500):  # three chunks of a thousand rows
        record_account_view(session=session, account_id=desk["acc1"], viewer=viewer)
    session.commit()
    for _ in range(3):
        body = client.get("/supervise/audit.csv").get_data(as_text=True)
        assert len(rows_of(body)) > 2500
    if backend == "postgresql":
        assert idle_in_transaction(db_url) == 0

    # A client that leaves after the first rows: the stream's session is closed when the server closes the body.
    response = client.get("/supervise/audit.csv", buffered=False)
    body = iter(response.response)
    assert next(body).startswith(b"at,user")
    assert next(body).count(b"account_viewed") == 1000
    if backend == "postgresql":
        assert idle_in_transaction(db_url) == 1  # the stream's own transaction, reading through its cursor
    response.close()
    if backend == "postgresql":
        assert idle_in_transaction(db_url) == 0
    # The request's own session served only the request: the next page still works.
    assert client.get("/supervise/audit?account=A-1").status_code == 200
