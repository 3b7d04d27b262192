"""The approval queue: agents' requests for offers above their authority, approved or denied with a note."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.services.calls.approvals import MAX_NOTE, ApprovalError
from retention_desk.services.supervision.approval_queue import approval_queue, decide_request
from retention_desk.web.context import db_session, wants_fragment
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp

UNPROCESSABLE = 422


@bp.get("/approvals")
@require_role(*SUPERVISORS)
def approvals() -> str:
    """The pending requests, oldest first; htmx polls for the list alone."""
    return _queue()


@bp.post("/approvals/<int:request_id>")
@require_role(*SUPERVISORS)
def decide(request_id: int) -> BaseResponse | str | tuple[str, int]:
    """Approve or deny one request (``decision=approve|deny``, optional ``note``); the agent's line updates itself."""
    decision = request.form.get("decision")
    note = request.form.get("note") or ""
    if decision not in ("approve", "deny"):
        return _refused(_("Choose approve or deny."))
    if len(note) > MAX_NOTE:
        return _refused(_("A note holds at most %(num)s characters.", num=MAX_NOTE))
    session = db_session()
    try:
        decided = decide_request(
            session=session,
            request_id=request_id,
            approver_id=current_user.id,
            approve=decision == "approve",
            note=note,
        )
    except ApprovalError as exc:
        session.rollback()
        return _refused(str(exc))
    session.commit()
    if decided.status == "approved":
        message = _("Request %(num)s approved: %(offer)s.", num=decided.id, offer=decided.offer_code)
    else:
        message = _("Request %(num)s denied: %(offer)s.", num=decided.id, offer=decided.offer_code)
    if wants_fragment():
        return _queue(done=message)
    flash(message, "success")
    return redirect(url_for("supervise.approvals"), code=303)


def _refused(message: str) -> tuple[str, int]:
    db_session().rollback()
    return _queue(error=message), UNPROCESSABLE


def _queue(**extra: str) -> str:
    queued = approval_queue(session=db_session())
    template = "supervise/_approvals.html" if wants_fragment() else "supervise/approvals.html"
    return render_template(template, queued=queued, max_note=MAX_NOTE, **extra)
