"""The dashboards: figures equal hand-computed values on a tiny desk, the hold-out interval, charts, who sees them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlmodel import Session

from retention_desk.services.supervision.dashboards import (
    DashboardError,
    DashboardFilter,
    holdout_comparison,
    supervisor_dashboard,
)
from retention_desk.storage.dashboards import GroupSums
from retention_desk.storage.tables import Account, Bill, Call, OfferHistory
from retention_desk.web.charts import Bar, Series, bar_chart, line_chart
from tests.web.sign_in_helpers import add_account, add_user, log_in
from tests.web.supervise_helpers import add_call, add_person, seed_catalog

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)
PAGES = ["/supervise/dashboard", "/supervise/dashboard?group=offer", "/supervise/dashboard.svg?chart=weekly"]


def _at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


def _mode(session: Session, call_id: int, mode: str) -> None:
    session.execute(update(Call).where(Call.id == call_id).values(decision_mode=mode))
    session.commit()


def _cost(session: Session, account_id: int, call_id: int, code: str, cost: str, at: datetime) -> None:
    session.add(
        OfferHistory(
            account_id=account_id,
            offer_code=code,
            offer_kind="percent_discount",
            offered_at=at,
            response="accepted",
            cost=Decimal(cost),
            call_id=call_id,
        )
    )
    session.commit()


def tiny_desk(session: Session) -> dict[str, int]:
    """Seven calls whose figures are worked out by hand in the tests below."""
    seed_catalog(session)
    ids = {"siri": add_person(session, "siri", "supervisor"), "anna": add_person(session, "anna", "agent")}
    for key, no, charge in (("a1", "A-1", "500"), ("a2", "A-2", "400"), ("a3", "A-3", "650"), ("a4", "A-4", "300")):
        ids[key] = add_account(session, no, key, "Test")
        session.execute(update(Account).where(Account.id == ids[key]).values(monthly_charge=Decimal(charge)))
    # a2 cancels 20 days after its call; a3 leaves a bill due 40 days after its call unpaid.
    session.execute(
        update(Account)
        .where(Account.id == ids["a2"])
        .values(status="cancelled", status_changed_at=_at(3) + timedelta(days=20))
    )
    session.add(
        Bill(account_id=ids["a3"], period_start=date(2026, 4, 1), amount=Decimal(650), due_on=date(2026, 4, 13))
    )
    session.commit()
    agent = ids["anna"]

    def call(key: str, account: str, started: datetime, **kwargs) -> None:
        ids[key] = add_call(session, account_id=ids[account], agent_id=agent, started=started, **kwargs)

    call("c1", "a1", _at(2))  # exploit, DISC10 (the top offer) accepted
    call("c2", "a2", _at(3), disposition="saved_without_offer", presented=(("DISC10", "declined"),), reason="moving")
    call("c3", "a3", _at(4), presented=(("DISC30", "accepted"),), band="low")  # DISC30's expected value is -120
    call("c4", "a4", _at(10, 6), disposition="saved_without_offer", presented=())  # too young to know
    call("c5", "a4", _at(5), disposition="cancelled", presented=())
    call("c6", "a1", _at(8), disposition="saved_without_offer", presented=())  # a Sunday
    call("c7", "a3", _at(9), disposition=None, presented=())  # still open: not counted
    _mode(session, ids["c3"], "explore")
    _mode(session, ids["c5"], "holdout")
    _mode(session, ids["c6"], "holdout")
    _cost(session, ids["a1"], ids["c1"], "DISC10", "420", _at(2))
    _cost(session, ids["a3"], ids["c3"], "DISC30", "3240", _at(4))
    return ids


def _dashboard(session: Session, **kwargs):
    filters = DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 6, 30), **kwargs)
    return supervisor_dashboard(session=session, filters=filters, as_of=AS_OF)


def test_the_totals_equal_the_hand_computed_figures(session):
    tiny_desk(session)
    total = _dashboard(session).total

    assert (total.calls, total.saves) == (6, 5)
    assert total.known == {30: 5, 60: 5, 90: 5}
    # durable at 30 days: c1, c3 (its unpaid bill falls due on day 40), c6; at 60 and 90: c1 and c6.
    assert total.durable == {30: 3, 60: 2, 90: 2}
    assert total.durable_rate[30] == pytest.approx(3 / 5)
    assert (total.accepted, total.leaked, total.leakage_rate) == (2, 1, 0.5)
    assert total.cost == Decimal("3660") and total.cost_per_save == Decimal("732.00")
    assert total.revenue_retained == Decimal("1000")  # c1 and c6, both account a1 at 500 a month
    # followed: c1 and c2 led with DISC10 (ranked first); c3 led with DISC30, c4 presented nothing.
    assert (total.followed, total.follow_base) == (2, 4)


def test_revenue_retained_follows_the_chosen_horizon(session):
    tiny_desk(session)
    assert _dashboard(session, horizon=30).total.revenue_retained == Decimal("1650")


def test_groups_by_first_offer_week_reason_and_band(session):
    tiny_desk(session)
    by_offer = {r.key: (r.calls, r.saves, r.durable[90], r.known[90]) for r in _dashboard(session, group="offer").rows}
    assert by_offer == {None: (3, 2, 1, 2), "DISC10": (2, 2, 1, 2), "DISC30": (1, 1, 0, 1)}
    by_week = {r.key: r.calls for r in _dashboard(session, group="week").rows}
    assert by_week == {"2026-03-02": 5, "2026-06-08": 1}
    by_reason = {r.key: r.calls for r in _dashboard(session, group="reason").rows}
    assert by_reason == {"moving": 1, "price": 5}
    by_band = {r.key: r.saves for r in _dashboard(session, group="band").rows}
    assert by_band == {"high": 4, "low": 1}


def test_the_hold_out_is_compared_with_offered_calls(session):
    tiny_desk(session)
    holdout = _dashboard(session).holdout
    # offered (exploit, known): c1 durable, c2 not; hold-out: c5 cancelled, c6 durable.
    assert (holdout.offered_known, holdout.offered_durable, holdout.holdout_known, holdout.holdout_durable) == (
        2,
        1,
        2,
        1,
    )
    assert holdout.difference == 0 and holdout.high == pytest.approx(1.959964 * 0.5)


def test_the_hold_out_interval_is_the_normal_approximation():
    offered = GroupSums("exploit", 100, 90, {90: 100}, {90: 80}, 0, 0, Decimal(0), Decimal(0), 0, 0)
    holdout = GroupSums("holdout", 100, 70, {90: 100}, {90: 60}, 0, 0, Decimal(0), Decimal(0), 0, 0)
    result = holdout_comparison(offered, holdout, 90)
    margin = 1.959964 * math.sqrt(0.8 * 0.2 / 100 + 0.6 * 0.4 / 100)
    assert result.difference == pytest.approx(0.2)
    assert (result.low, result.high) == (pytest.approx(0.2 - margin), pytest.approx(0.2 + margin))
    assert holdout_comparison(offered, None, 90).difference is None


def test_the_default_range_is_the_last_90_days_of_data(session):
    tiny_desk(session)
    board = supervisor_dashboard(session=session, filters=DashboardFilter(), as_of=AS_OF)
    assert (board.date_from, board.date_to) == (date(2026, 3, 13), date(2026, 6, 10))
    assert board.total.calls == 1


@pytest.mark.parametrize(
    "filters",
    [DashboardFilter(group="colour"), DashboardFilter(horizon=45), DashboardFilter(date(2026, 5, 1), date(2026, 4, 1))],
)
def test_a_setting_that_cannot_be_right_is_refused(session, filters):
    with pytest.raises(DashboardError):
        supervisor_dashboard(session=session, filters=filters, as_of=AS_OF)


# The page -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/supervise/dashboard", "/supervise/dashboard?group=offer"])
def test_an_agent_is_refused_the_dashboard(client, session, path):
    add_user(session, "anna", "agent")
    log_in(client, "anna")
    assert client.get(path).status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/supervise/dashboard")
    assert response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")


@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize("group", ["week", "offer", "reason", "agent", "band"])
def test_supervisors_and_admins_see_figures_and_charts(client, session, role, group):
    tiny_desk(session)
    add_user(session, "boss", role)
    log_in(client, "boss")
    html = client.get(f"/supervise/dashboard?from=2026-03-01&to=2026-06-30&group={group}").get_data(as_text=True)
    assert 'data-figure="calls">6<' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 2
    assert '<title id="chart-weekly-title">Save rate by week</title>' in html
    assert 'id="dashboard-groups"' in html


def test_the_page_shows_the_hand_computed_totals(client, session):
    tiny_desk(session)
    log_in(client, "siri")
    html = client.get("/supervise/dashboard?from=2026-03-01&to=2026-06-30&group=offer").get_data(as_text=True)
    assert 'data-figure="save-rate">83%<' in html
    # The page judges outcomes as of now (months after these calls), so c4 is known here: 4 of 6 durable.
    assert 'data-figure="durable-30">67%' in html
    assert "732.00" in html and "1,300.00" in html
    assert "2 of 4 calls" in html and "1 of 2 accepted offers" in html
    assert "No offer presented" in html and "DISC10" in html
    assert 'id="chart-holdout"' in html and 'id="chart-groups"' in html


def test_htmx_gets_the_figures_alone(client, session):
    tiny_desk(session)
    log_in(client, "siri")
    html = client.get("/supervise/dashboard?from=2026-03-01&to=2026-06-30", headers={"HX-Request": "true"})
    text = html.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="dashboard"') and "<html" not in text


@pytest.mark.parametrize(
    "query", ["from=yesterday", "group=colour", "horizon=45", "horizon=ninety", "from=2026-05-01&to=2026-04-01"]
)
def test_a_bad_setting_is_a_400_with_a_message(client, session, query):
    tiny_desk(session)
    log_in(client, "siri")
    response = client.get(f"/supervise/dashboard?{query}")
    assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)


def test_an_empty_desk_renders(client, session):
    add_user(session, "siri", "supervisor")
    log_in(client, "siri")
    response = client.get("/supervise/dashboard")
    assert response.status_code == 200 and "No finished calls in this range." in response.get_data(as_text=True)


# The charts ---------------------------------------------------------------------------------------------------------


def test_a_bar_chart_is_accessible_svg_with_intervals_and_escaped_labels():
    svg = bar_chart(
        [Bar("<DISC10>", 0.25), Bar("Hold-out", -0.1, -0.3, 0.05), Bar("Nothing yet", None)],
        chart_id="c1",
        title="Save rate",
        description="By offer",
        fmt=lambda v: f"{v:.0%}",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>") and 'role="img"' in svg
    assert '<title id="c1-title">Save rate</title><desc id="c1-desc">By offer</desc>' in svg
    assert "&lt;DISC10&gt;: 25%" in svg and "<DISC10>" not in svg
    assert "Hold-out: -10% (-30% … 5%)" in svg
    assert svg.count("<rect") == 2 and "style=" not in svg


def test_a_line_chart_breaks_at_missing_values_and_has_a_legend_for_two_series():
    svg = line_chart(
        ["w1", "w2", "w3", "w4"],
        [Series("Saved", [0.5, None, 0.4, 0.6]), Series("Durable", [0.3, 0.2, 0.1, None])],
        chart_id="c2",
        title="By week",
        description="Trend",
        fmt=lambda v: f"{v:.0%}",
        y_max=1.0,
    )
    assert svg.count("<polyline") == 2  # "Saved" is one stretch (w3–w4) after the gap; "Durable" w1–w3
    assert svg.count("<circle") == 6
    assert "<title>Saved, w3: 40%</title>" in svg and "Durable</text>" in svg
