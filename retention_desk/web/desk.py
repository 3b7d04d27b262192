"""The agent's desk: find the caller's account (typed, live or by screen pop) and open it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.services.accounts import find_accounts, open_account
from retention_desk.web.calls import bp as calls_bp
from retention_desk.web.calls import new_call_key
from retention_desk.web.context import app_settings, db_session, page_viewer, wants_fragment
from retention_desk.web.forms import SearchForm
from retention_desk.web.risk_words import percent, reason_text

bp = Blueprint("desk", __name__)
bp.register_blueprint(calls_bp)  # the call flow lives in web/calls.py, under the desk's name (desk.calls.*)
bp.add_app_template_global(reason_text)
bp.add_app_template_global(percent)

MAX_QUERY = 200


@bp.get("/")
def home() -> BaseResponse:
    """The site's front door is the desk."""
    return redirect(url_for("desk.index"))


@bp.get("/desk")
@login_required
def index() -> BaseResponse | str:
    """The search page; ``?phone=`` or ``?account=`` from the phone system opens a single match directly."""
    popped = (request.args.get("phone") or request.args.get("account") or "").strip()[:MAX_QUERY]
    query = popped or (request.args.get("q") or "").strip()[:MAX_QUERY]
    results = _search(query)
    if popped and len(results) == 1:
        return redirect(url_for("desk.account", account_id=results[0].id))
    return _search_page(query, results)


@bp.get("/desk/search")
@login_required
def search() -> str:
    """Live-search results: the fragment for htmx, the whole page for a reload, a bookmark or Back."""
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    results = _search(query)
    if wants_fragment():
        return render_template("desk/_results.html", q=query, results=results)
    return _search_page(query, results)


@bp.get("/desk/accounts/<int:account_id>")
@login_required
def account(account_id: int) -> str:
    """Everything about one account the agent needs during the call, with its churn risk and reasons; each opening
    is audited (who looked at this subscriber)."""
    session = db_session()
    screen = open_account(
        session=session, settings=app_settings(), account_id=account_id, agent_id=current_user.id, viewer=page_viewer()
    )
    if screen is None:
        abort(404)
    session.commit()
    return render_template("desk/account.html", view=screen.view, screen=screen, call=None, call_key=new_call_key())


def _search(query: str) -> list:
    if not query:
        return []
    return find_accounts(session=db_session(), query=query, phone_region=app_settings().phone_region)


def _search_page(query: str, results: list) -> str:
    form = SearchForm(formdata=None, q=query)
    return render_template("desk/index.html", form=form, q=query, results=results)
