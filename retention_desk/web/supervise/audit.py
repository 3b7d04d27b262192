"""The audit log: who did what and when, and who opened which account; as a page and as a streamed CSV."""

from __future__ import annotations

from flask import Response, render_template, request

from retention_desk.domain.clock import utcnow
from retention_desk.services.supervision.audit_csv import audit_log_csv
from retention_desk.services.supervision.oversight import AuditFilter, AuditFilterError, audit_log_page
from retention_desk.web.context import app_settings, db_session
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp, date_arg

FILTER_ARGS = ("action", "user", "from", "to", "account")


@bp.get("/audit")
@require_role(*SUPERVISORS)
def audit() -> tuple[str, int]:
    """Who did what and when, filtered by action, user, date and account, newest first."""
    filters = _filters()
    page = request.args.get("page", default=1, type=int) or 1
    result = audit_log_page(session=db_session(), filters=filters, page=min(max(page, 1), 100_000))
    args = {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}
    html = render_template("supervise/audit.html", page=result, filters=filters, args=args)
    return html, 200 if result.error is None else 400


@bp.get("/audit.csv")
@require_role(*SUPERVISORS)
def audit_csv() -> Response | tuple[str, int]:
    """The filtered log as CSV, streamed; the stream reads through a session of its own (see audit_csv)."""
    try:
        rows = audit_log_csv(session=db_session(), database_url=app_settings().database_url, filters=_filters())
    except AuditFilterError as exc:
        return str(exc), 400
    name = f"audit-log-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(rows, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _filters() -> AuditFilter:
    return AuditFilter(
        action=request.args.get("action") or None,
        actor_name=(request.args.get("user") or "").strip()[:80] or None,
        date_from=date_arg("from"),
        date_to=date_arg("to"),
        account=(request.args.get("account") or "").strip()[:40] or None,
    )
