"""The offer log: every call with filters, sorting and paging done in SQL, a streamed CSV export, one call's record."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _

from retention_desk.domain.clock import utcnow
from retention_desk.services.supervision.offer_log import (
    CallFilter,
    OfferLogError,
    call_log_csv,
    call_log_screen,
    call_record,
)
from retention_desk.web.context import app_settings, db_session, page_viewer, wants_fragment
from retention_desk.web.inputs import whole_number
from retention_desk.web.risk_words import percent
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp, date_range_args

FILTER_ARGS = ("from", "to", "agent", "team", "offer", "reason", "disposition", "band", "sort", "dir")


@bp.get("/calls")
@require_role(*SUPERVISORS)
def calls() -> str | tuple[str, int]:
    """The offer log, newest first unless sorted otherwise; the table alone for htmx."""
    filters, error = _filters()
    page_no = min(max(request.args.get("page", default=1, type=int) or 1, 1), 100_000)
    screen = call_log_screen(session=db_session(), filters=filters, page=page_no, filter_error=error)
    args = {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}
    context = {
        "page": screen.page,
        "filters": filters,
        "args": args,
        "error": screen.error,
        "choices": screen.choices,
        "percent": percent,
    }
    status = 200 if screen.error is None else 400
    if wants_fragment():
        return render_template("supervise/_calls_table.html", **context), status
    return render_template("supervise/calls.html", **context), status


@bp.get("/calls.csv")
@require_role(*SUPERVISORS)
def calls_csv() -> Response | tuple[str, int]:
    """The filtered log as CSV, streamed a chunk at a time so a million calls never sit in memory."""
    filters, error = _filters()
    if error is None:
        try:
            filters.checked()
        except OfferLogError as exc:
            error = str(exc)
    if error is not None:
        return error, 400
    rows = call_log_csv(database_url=app_settings().database_url, filters=filters)
    name = f"offer-log-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        rows,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/calls/<int:call_id>")
@require_role(*SUPERVISORS)
def call(call_id: int) -> str:
    """One call exactly as the agent saw it: the ranked list with its figures, the risk and reasons, the outcome;
    the opening is audited, as the record shows the account."""
    session = db_session()
    record = call_record(session=session, call_id=call_id, viewer=page_viewer())
    if record is None:
        abort(404)
    session.commit()
    return render_template("supervise/call.html", call=record, percent=percent)


def _filters() -> tuple[CallFilter, str | None]:
    """The filter from the query string; a value that cannot be parsed is reported, not silently dropped."""
    args = request.args
    dates, error = date_range_args()
    values: dict[str, object] = dict(dates)
    agent = (args.get("agent") or "").strip()
    if agent:
        if (agent_id := whole_number(agent)) is not None:
            values["agent_id"] = agent_id
        else:
            error = _("Choose the agent from the list.")
    for name, key in (
        ("team", "team"),
        ("offer_code", "offer"),
        ("cancel_reason", "reason"),
        ("disposition", "disposition"),
        ("risk_band", "band"),
    ):
        values[name] = (args.get(key) or "").strip()[:80] or None
    values["sort"] = args.get("sort") or "started"
    values["descending"] = args.get("dir", "desc") != "asc"
    return CallFilter(**values), error  # type: ignore[arg-type]
