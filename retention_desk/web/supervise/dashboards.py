"""The supervisor's dashboard: save rates, durable saves, cost and revenue by a chosen group, with SVG charts."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from retention_desk.services.supervision.dashboards import (
    GROUPS,
    HORIZONS,
    Dashboard,
    DashboardError,
    DashboardFilter,
    supervisor_dashboard,
)
from retention_desk.web.charts import Bar, Series, bar_chart, line_chart
from retention_desk.web.context import db_session, wants_fragment
from retention_desk.web.inputs import whole_number
from retention_desk.web.risk_words import percent
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp, date_range_args

MAX_BARS = 25


@bp.get("/dashboard")
@require_role(*SUPERVISORS)
def dashboard() -> str | tuple[str, int]:
    """Save rate, durable save rate, cost per save and revenue retained by week, offer, reason, agent or band."""
    filters, error = _filters()
    board = None
    if error is None:
        try:
            board = supervisor_dashboard(session=db_session(), filters=filters)
        except DashboardError as exc:
            error = str(exc)
    context = {
        "board": board,
        "filters": filters,
        "error": error,
        "groups": GROUPS,
        "horizons": HORIZONS,
        "group_names": group_names(),
        "percent": _percent,
        "charts": _charts(board) if board else {},
    }
    status = 200 if error is None else 400
    template = "supervise/_dashboard.html" if wants_fragment() else "supervise/dashboard.html"
    return render_template(template, **context), status


def group_names() -> dict[str, str]:
    return {
        "week": _("Week"),
        "offer": _("First offer presented"),
        "reason": _("Cancel reason"),
        "agent": _("Agent"),
        "band": _("Risk band"),
    }


def _filters() -> tuple[DashboardFilter, str | None]:
    """The dashboard's settings from the query string; a value that cannot be parsed is reported."""
    args = request.args
    dates, error = date_range_args()
    values: dict[str, object] = dict(dates)
    values["group"] = (args.get("group") or "week").strip()[:20]
    horizon = whole_number((args.get("horizon") or "90").strip(), digits=3)
    if horizon is not None:
        values["horizon"] = horizon
    else:
        error = _("The durable-save horizon must be 30, 60 or 90 days.")
    return DashboardFilter(**values), error  # type: ignore[arg-type]


def _percent(value: float | None) -> str:
    return "–" if value is None else percent(value)


def _signed_percent(value: float) -> str:
    text = percent(value)
    return f"+{text}" if value > 0 else text


def _charts(board: Dashboard) -> dict[str, Markup]:
    """The page's three charts: the weekly trend, the chosen group as bars, the hold-out difference."""
    h = board.horizon
    weeks = [row.key or "" for row in board.weekly]
    weekly = line_chart(
        weeks,
        [
            Series(_("Save rate"), [row.save_rate for row in board.weekly]),
            Series(_("Durable at %(num)s days", num=h), [row.durable_rate[h] for row in board.weekly]),
        ],
        chart_id="chart-weekly",
        title=_("Save rate by week"),
        description=_(
            "Share of finished calls saved, and share still active and paying %(num)s days later, week by week "
            "(weeks start on Monday, UTC).",
            num=h,
        ),
        fmt=percent,
        y_max=1.0,
    )
    rows = sorted(board.rows, key=lambda r: -(r.calls))[:MAX_BARS]
    names = group_names()
    by_group = bar_chart(
        [Bar(_row_label(row.label, row.key), row.durable_rate[h]) for row in rows],
        chart_id="chart-groups",
        title=_("Durable save rate at %(num)s days by %(group)s", num=h, group=names[board.group].lower()),
        description=_(
            "Bars show the share of calls old enough to know (at least %(num)s days) whose caller is still active "
            "and paying; a dash means no call is that old yet. The %(max)s largest groups.",
            num=h,
            max=MAX_BARS,
        ),
        fmt=percent,
    )
    ho = board.holdout
    holdout = bar_chart(
        [Bar(_("Offered minus hold-out"), ho.difference, ho.low, ho.high)],
        chart_id="chart-holdout",
        title=_("True effect of offering (durable saves at %(num)s days)", num=h),
        description=_(
            "Durable save rate of offered calls minus that of the no-offer hold-out, with a %(level)s confidence "
            "interval (normal approximation for two proportions).",
            level=percent(0.95),
        ),
        fmt=_signed_percent,
        row=34,
        label_width=170,
    )
    return {"weekly": weekly, "groups": by_group, "holdout": holdout}


def _row_label(label: str, key: str | None) -> str:
    return label if key is not None else _("(none)")
