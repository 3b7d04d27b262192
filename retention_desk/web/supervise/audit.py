"""The audit log: who did what and when."""

from __future__ import annotations

from flask import render_template, request

from retention_desk.services.supervision.oversight import AuditFilter, audit_log_page
from retention_desk.web.context import db_session
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp, date_arg


@bp.get("/audit")
@require_role(*SUPERVISORS)
def audit() -> str:
    """Who did what and when, filtered by action, user and date, newest first."""
    filters = AuditFilter(
        action=request.args.get("action") or None,
        actor_name=(request.args.get("user") or "").strip()[:80] or None,
        date_from=date_arg("from"),
        date_to=date_arg("to"),
    )
    page = request.args.get("page", default=1, type=int) or 1
    result = audit_log_page(session=db_session(), filters=filters, page=min(max(page, 1), 100_000))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("supervise/audit.html", page=result, filters=filters, args=args)
