"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.services.staff.sign_in import sign_in, sign_out
from retention_desk.web.context import app_settings, client_ip, db_session
from retention_desk.web.forms import LoginForm, LogoutForm
from retention_desk.web.identity import DeskUser

bp = Blueprint("auth", __name__)


def is_local_path(target: str | None) -> bool:
    """Only a path on this site may follow sign-in, so a link cannot send an agent elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def unauthorized() -> BaseResponse | tuple[str, int, dict[str, str]]:
    """Anonymous visitors go to sign-in and come back; htmx requests get a full-page redirect instead."""
    target = request.full_path if request.query_string else request.path
    login_url = url_for("auth.login", next=target if is_local_path(target) else None)
    if request.headers.get("HX-Request") == "true":
        return "", 401, {"HX-Redirect": login_url}
    flash(_("Please sign in to continue."), "info")
    return redirect(login_url)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    """Show the sign-in form, or sign in; failures are throttled per username and per address."""
    form = LoginForm()
    if request.method in ("GET", "HEAD"):
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(_next_or_desk(form.next.data))
        return render_template("auth/login.html", form=form), 200
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, error=_("Enter your username and password.")), 400
    result = sign_in(
        session=db_session(),
        settings=app_settings(),
        username=form.username.data,
        password=form.password.data,
        ip=client_ip(),
    )
    db_session().commit()
    if result.throttled:
        message = _("Too many failed sign-ins. Please wait a few minutes before you try again.")
        return render_template("auth/login.html", form=form, error=message), 429
    if result.user is None:
        return render_template("auth/login.html", form=form, error=_("Unknown username or wrong password.")), 401
    session.clear()  # a fresh session on every sign-in, so nothing from before it carries over
    login_user(DeskUser.from_row(result.user))
    return redirect(_next_or_desk(form.next.data))


@bp.post("/logout")
def logout() -> BaseResponse | Response:
    """Sign out (a POST with a CSRF token, so another site cannot do it for the agent)."""
    form = LogoutForm()
    form.validate_on_submit()  # CSRFProtect has already refused a request without a valid token
    if current_user.is_authenticated:
        sign_out(session=db_session(), user_id=current_user.id, ip=client_ip())
        db_session().commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _next_or_desk(target: str | None) -> str:
    return target if is_local_path(target) else url_for("desk.index")
