"""The cancellation call on the desk: start it, take the reason, present and log offers, close it.

Every step is a POST that htmx sends from the call page and that also works as a plain form: htmx gets the redrawn
panel (or an HX-Redirect when the call is closed), a plain POST is redirected back to the call page. Every GET a
fragment is loaded from returns the whole page when opened directly, on reload or on a history restore; each such
whole page is an opening of the account and is audited, a fragment redraw is not.
Each view makes one call to the call service (services/calls/steps.py), which holds every rule of the call, who
may act on it, and its idempotency: a double click or a retried request logs once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.domain.vocabulary import DISPOSITIONS
from retention_desk.services.audit import Viewer
from retention_desk.services.calls import steps
from retention_desk.services.calls.state import CallState, call_state, offers_not_permitted
from retention_desk.services.calls.steps import MAX_NOTES, CallError, NotFound, NotYourCall
from retention_desk.web.context import app_settings, db_session, page_viewer, wants_fragment
from retention_desk.web.labels import label

bp = Blueprint("calls", __name__)

UNPROCESSABLE = 422


def new_call_key() -> str:
    """A fresh idempotency key for one rendered account page: a resubmitted form reuses it."""
    return secrets.token_urlsafe(24)


@bp.post("/desk/accounts/<int:account_id>/calls")
@login_required
def start_call(account_id: int) -> BaseResponse:
    """The caller asks to cancel: open the call (time-stamped now) and go to its page."""
    key = (request.form.get("idempotency_key") or "").strip()
    session = db_session()
    try:
        state = steps.start_call(
            session=session,
            settings=app_settings(),
            account_id=account_id,
            agent_id=current_user.id,
            idempotency_key=key,
        )
    except NotFound:
        abort(404)
    except CallError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("desk.account", account_id=account_id), code=303)
    session.commit()
    return _to_call(state.call.id)


@bp.get("/desk/calls/<int:call_id>")
@login_required
def show(call_id: int) -> str:
    """The call page: the account, the reason, the ranked offers and the outcome form, at its own URL."""
    return _page(call_id, opened=True)


@bp.get("/desk/calls/<int:call_id>/offers")
@login_required
def offers(call_id: int) -> str:
    """The offers panel alone for htmx; the call page otherwise."""
    if not wants_fragment():
        return _page(call_id, opened=True)
    return render_template("desk/_offers.html", call=_state_or_404(call_id))


@bp.get("/desk/calls/<int:call_id>/offers/<code>")
@login_required
def offer_line(call_id: int, code: str) -> str:
    """One offer's line, which polls while its approval is pending; the call page when opened directly."""
    if not wants_fragment():
        return _page(call_id, opened=True)
    state = _state_or_404(call_id)
    line = state.line(code)
    if line is None:
        abort(404)
    return render_template("desk/_offer_line.html", call=state, line=line)


@bp.get("/desk/calls/<int:call_id>/why-not")
@login_required
def why_not(call_id: int) -> str:
    """The offers this caller cannot get, with the reasons; the call page with the list open when loaded directly."""
    refused = offers_not_permitted(session=db_session(), call_id=call_id, agent_id=current_user.id)
    if refused is None:
        abort(404)
    if wants_fragment():
        return render_template("desk/_why_not.html", refused=refused)
    return _page(call_id, opened=True, refused=refused)


@bp.post("/desk/calls/<int:call_id>/reason")
@login_required
def choose_reason(call_id: int) -> BaseResponse | str | tuple[str, int]:
    """The caller's reason for cancelling; the offers are ranked again for it."""
    code = (request.form.get("reason") or "").strip()
    return _step(call_id, lambda step: steps.choose_reason(**step, reason=code))


@bp.post("/desk/calls/<int:call_id>/offers/<code>/present")
@login_required
def present_offer(call_id: int, code: str) -> BaseResponse | str | tuple[str, int]:
    """The agent makes this offer."""
    return _step(call_id, lambda step: steps.present_offer(**step, offer_code=code))


@bp.post("/desk/calls/<int:call_id>/offers/<code>/answer")
@login_required
def answer_offer(call_id: int, code: str) -> BaseResponse | str | tuple[str, int]:
    """The caller's answer to a presented offer: ``accepted=yes`` or ``accepted=no``."""
    given = request.form.get("accepted")
    if given not in ("yes", "no"):
        return _step_error(call_id, _("Say whether the caller accepted the offer or declined it."))
    return _step(call_id, lambda step: steps.answer_offer(**step, offer_code=code, accepted=given == "yes"))


@bp.post("/desk/calls/<int:call_id>/offers/<code>/approval")
@login_required
def request_approval(call_id: int, code: str) -> BaseResponse | str | tuple[str, int]:
    """Ask a supervisor for an offer above the agent's authority."""
    return _step(call_id, lambda step: steps.request_approval(**step, offer_code=code))


@bp.post("/desk/calls/<int:call_id>/finish")
@login_required
def finish_call(call_id: int) -> BaseResponse | str | tuple[str, int]:
    """Close the call with its outcome and notes; the desk goes back to search for the next call."""
    disposition = (request.form.get("disposition") or "").strip()
    notes = request.form.get("notes") or ""
    if disposition not in DISPOSITIONS:
        return _finish_error(call_id, _("Choose the outcome of the call."), disposition, notes)
    if len(notes) > MAX_NOTES:
        return _finish_error(call_id, _("Notes hold at most %(num)s characters.", num=MAX_NOTES), disposition, notes)
    try:
        state = steps.finish_call(**_step_args(call_id), disposition=disposition, notes=notes)
    except CallError as exc:
        return _finish_error(call_id, str(exc), disposition, notes, exc)
    db_session().commit()
    flash(_("Call closed: %(outcome)s.", outcome=label("disposition", state.call.disposition)), "success")
    return _back_to_search()


@bp.post("/desk/calls/<int:call_id>/cancel")
@login_required
def process_cancellation(call_id: int) -> BaseResponse | str | tuple[str, int]:
    """Process the cancellation now, whatever stage the call is at."""
    notes = request.form.get("notes") or ""
    if len(notes) > MAX_NOTES:
        return _finish_error(call_id, _("Notes hold at most %(num)s characters.", num=MAX_NOTES), "", notes)
    try:
        steps.process_cancellation(**_step_args(call_id), notes=notes)
    except CallError as exc:
        return _finish_error(call_id, str(exc), "", notes, exc)
    db_session().commit()
    flash(_("The cancellation is processed and the call is closed."), "success")
    return _back_to_search()


def _step_args(call_id: int) -> dict:
    """What every step of the call service takes from the request: the session, the settings, the call, the agent."""
    return {"session": db_session(), "settings": app_settings(), "call_id": call_id, "agent_id": current_user.id}


def _step(call_id: int, action: Callable[[dict], CallState]) -> BaseResponse | str | tuple[str, int]:
    """Run one call step; commit on success, store nothing on a refusal and tell the agent why."""
    try:
        state = action(_step_args(call_id))
    except CallError as exc:
        return _step_error(call_id, str(exc), exc)
    db_session().commit()
    if wants_fragment():
        return render_template("desk/_offers.html", call=state)
    return _to_call(call_id)


def _step_error(call_id: int, message: str, exc: CallError | None = None) -> tuple[str, int]:
    db_session().rollback()
    status = _status_for(exc)
    if wants_fragment():
        return render_template("desk/_offers.html", call=_state_or_404(call_id), error=message), status
    return _page(call_id, error=message), status


def _finish_error(
    call_id: int, message: str, disposition: str, notes: str, exc: CallError | None = None
) -> tuple[str, int]:
    """The outcome form again with the agent's notes kept and the reason it was refused."""
    db_session().rollback()
    status = _status_for(exc)
    kept = {"finish_error": message, "disposition": disposition, "notes": notes}
    if wants_fragment():
        return render_template("desk/_finish.html", call=_state_or_404(call_id), **kept), status
    return _page(call_id, **kept), status


def _status_for(exc: CallError | None) -> int:
    """403 for another agent's call; 422 for a step the call's state refuses (an unknown call 404s when redrawn)."""
    return 403 if isinstance(exc, NotYourCall) else UNPROCESSABLE


def _page(call_id: int, *, opened: bool = False, **extra: object) -> str:
    """The whole call page; ``opened``: a GET that shows it (audited and committed), not a refused step's redraw."""
    state = _state_or_404(call_id, with_account=True, viewer=page_viewer() if opened else None)
    if state.account is None:
        abort(404)
    if opened:
        db_session().commit()
    return render_template(
        "desk/account.html",
        view=state.account.view,
        screen=state.account,
        call=state,
        call_key=new_call_key(),
        **extra,
    )


def _state_or_404(call_id: int, *, with_account: bool = False, viewer: Viewer | None = None) -> CallState:
    state = call_state(
        session=db_session(), settings=app_settings(), call_id=call_id, with_account=with_account, viewer=viewer
    )
    if state is None:
        abort(404)
    return state


def _to_call(call_id: int | None) -> BaseResponse:
    return redirect(url_for("desk.calls.show", call_id=call_id), code=303)


def _back_to_search() -> BaseResponse:
    """After a closed call the desk is ready for the next one: the search, with the box focused."""
    target = url_for("desk.index")
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)
