"""The offer log: filters, sorting and paging in SQL, the streamed CSV, one call as the agent saw it; who may see it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from retention_desk.storage.tables import Account, User
from tests.web.sign_in_helpers import add_user, csrf_token, log_in
from tests.web.supervise_helpers import SUPERVISOR_PAGES, add_call, logged_desk


@pytest.fixture()
def desk(client, session):
    ids = logged_desk(session)
    log_in(client, "siri")
    return ids


def _call_ids(html: str) -> list[int]:
    return [int(part.split('"', 1)[0]) for part in html.split('data-call-id="')[1:]]


@pytest.mark.parametrize(("method", "path"), SUPERVISOR_PAGES)
def test_an_agent_is_refused_every_supervisor_page_and_action(client, session, method, path):
    add_user(session, "anna", "agent")
    log_in(client, "anna")
    token = csrf_token(client, "/desk")
    response = getattr(client, method)(path, data={"csrf_token": token} if method == "post" else None)
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), SUPERVISOR_PAGES)
def test_an_admin_may_open_the_console(client, session, method, path):
    logged_desk(session)
    add_user(session, "ada", "admin")
    log_in(client, "ada")
    if method == "get":
        assert client.get(path).status_code in (200, 404)


def test_the_log_lists_every_call_newest_first(client, desk):
    html = client.get("/supervise/calls").get_data(as_text=True)
    assert _call_ids(html) == [desk["call3"], desk["call2"], desk["call1"]]
    assert "DISC10: accepted" in html and "DISC10: declined" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2026-03-03&to=2026-03-05", ["call2"]),
        ("team=Desk+Oslo", ["call3", "call1"]),
        ("reason=moving", ["call2"]),
        ("disposition=saved_with_offer", ["call1"]),
        ("band=medium", ["call3"]),
        ("offer=DISC10", ["call2", "call1"]),
        ("offer=CREDIT300", []),
    ],
)
def test_the_log_filters_in_sql(client, desk, query, expected):
    html = client.get(f"/supervise/calls?{query}").get_data(as_text=True)
    assert _call_ids(html) == [desk[name] for name in expected]


def test_the_log_filters_by_agent_and_sorts_both_ways(client, desk):
    by_agent = client.get(f"/supervise/calls?agent={desk['bo']}").get_data(as_text=True)
    assert _call_ids(by_agent) == [desk["call2"]]
    by_risk = client.get("/supervise/calls?sort=risk&dir=desc").get_data(as_text=True)
    assert _call_ids(by_risk) == [desk["call1"], desk["call3"], desk["call2"]]
    oldest = client.get("/supervise/calls?sort=started&dir=asc").get_data(as_text=True)
    assert _call_ids(oldest) == [desk["call1"], desk["call2"], desk["call3"]]


def test_htmx_gets_the_table_alone(client, desk):
    html = client.get("/supervise/calls?reason=moving", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="calls-table"') and "<html" not in html
    assert "reason=moving" in html  # the export link follows the filters


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("from=31-12-2026", "is not a date"),
        ("disposition=won", "There is no disposition"),
        ("band=purple", "There is no risk band"),
        ("sort=password_hash", "cannot be sorted"),
        ("from=2026-03-09&to=2026-03-01", "end date is before"),
        ("agent=x1", "Choose the agent"),
    ],
)
def test_a_bad_filter_is_reported_not_ignored(client, desk, query, words):
    response = client.get(f"/supervise/calls?{query}")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert client.get(f"/supervise/calls.csv?{query}").status_code == 400


def test_the_log_pages_without_counting(client, desk, session):
    for n in range(55):
        add_call(
            session,
            account_id=desk["acc2"],
            agent_id=desk["bo"],
            started=datetime(2026, 1, 1, 8, n, tzinfo=UTC),
        )
    first = client.get("/supervise/calls").get_data(as_text=True)
    second = client.get("/supervise/calls?page=2").get_data(as_text=True)
    assert len(_call_ids(first)) == 50 and "page=2" in first
    assert len(_call_ids(second)) == 8 and "page=3" not in second
    assert not set(_call_ids(first)) & set(_call_ids(second))


def test_the_csv_export_streams_the_filtered_calls(client, desk):
    response = client.get("/supervise/calls.csv?band=low")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["call_id"]) for r in rows] == [desk["call2"]]
    row = rows[0]
    assert (row["agent"], row["team"], row["cancel_reason"], row["disposition"]) == (
        "bo",
        "Desk Bergen",
        "moving",
        "cancelled",
    )
    assert row["offers_presented"] == "DISC10:declined"
    assert row["notes"].startswith("'=")  # a spreadsheet must not run it as a formula


def test_the_csv_export_reads_in_chunks(db_url, desk):
    from retention_desk.services.supervision.offer_log import CallFilter, call_log_csv

    parts = list(call_log_csv(database_url=db_url, filters=CallFilter(), chunk=1))
    assert len(parts) == 4  # the header, then one part per one-call chunk
    assert sum(p.count("\n") for p in parts) == 4


def test_every_text_cell_of_the_csv_is_safe_to_open_in_a_spreadsheet(client, session, desk):
    account = session.get(Account, desk["acc2"])
    account.account_no = "+4791234567"  # an imported account number
    session.get(User, desk["bo"]).team = "@ops"
    session.commit()
    row = next(csv.DictReader(io.StringIO(client.get("/supervise/calls.csv?band=low").get_data(as_text=True))))
    assert (row["account_no"], row["team"], row["notes"]) == ("'+4791234567", "'@ops", '\'=HYPERLINK("x")')


def test_streamed_exports_leave_no_connection_idle_in_a_transaction(client, session, desk, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL reports its connections' states; SQLite has none to leak")
    for _ in range(8):
        response = client.get("/supervise/calls.csv")
        assert response.status_code == 200 and response.get_data(as_text=True).count("\n") == 4
        response.close()
    name = make_url(db_url).database
    idle = session.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND state = 'idle in transaction'"),
        {"db": name},
    ).scalar_one()
    assert idle == 0


def test_one_call_shows_exactly_what_the_agent_saw(client, desk):
    html = client.get(f"/supervise/calls/{desk['call1']}").get_data(as_text=True)
    assert 'id="ranked-list"' in html
    for figure in ("0.710", "0.400", "0.9000", "DISC30", "No offer", "churn-test-1", "offer-test-1"):
        assert figure in html
    assert "3 outages in 90 days" in html and "customer for 4 years" in html
    assert "High risk" in html and "Anna" in html
    assert html.index('data-offer="DISC10"') < html.index('data-offer="DISC30"')


def test_an_unknown_call_is_404(client, desk):
    assert client.get("/supervise/calls/999999").status_code == 404
