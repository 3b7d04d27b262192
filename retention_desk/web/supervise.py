"""Supervisors' pages: the audit log here; the offer log, catalog editor and approvals in supervise_*.py."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from retention_desk.services.oversight import AuditFilter, audit_log_page
from retention_desk.web.context import db_session
from retention_desk.web.roles import SUPERVISORS, require_role

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


@bp.get("/audit")
@require_role(*SUPERVISORS)
def audit() -> str:
    """Who did what and when, filtered by action, user and date, newest first."""
    filters = AuditFilter(
        action=request.args.get("action") or None,
        actor_name=(request.args.get("user") or "").strip()[:80] or None,
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
    )
    page = request.args.get("page", default=1, type=int) or 1
    result = audit_log_page(session=db_session(), filters=filters, page=min(max(page, 1), 100_000))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("supervise/audit.html", page=result, filters=filters, args=args)


def date_range_args() -> tuple[dict[str, date], str | None]:
    """``from`` and ``to`` of the query string as ``date_from`` / ``date_to``, and the message for one that is not a
    date (reported to the supervisor, not silently dropped)."""
    values: dict[str, date] = {}
    error = None
    for name, key in (("date_from", "from"), ("date_to", "to")):
        text = (request.args.get(key) or "").strip()
        if text:
            try:
                values[name] = date.fromisoformat(text)
            except ValueError:
                error = _("%(value)s is not a date such as 2026-01-31.", value=text[:40])
    return values, error


def _date_arg(name: str) -> date | None:
    """A bad date is ignored rather than refused: the filter form shows what was actually applied."""
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


# The console's other pages register their views on this blueprint (imported last: they import ``bp``).
from retention_desk.web import (  # noqa: E402, F401
    supervise_approvals,
    supervise_calls,
    supervise_catalog,
    supervise_dashboards,
    supervise_models,
)
