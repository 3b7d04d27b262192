"""Admins' pages: the users who can sign in to the desk."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.services.staff.users import UserError, UserIn
from retention_desk.services.supervision.oversight import add_user, list_users
from retention_desk.web.context import db_session
from retention_desk.web.forms import UserAddForm
from retention_desk.web.roles import ADMINS, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@require_role(*ADMINS)
def users() -> str:
    """The user list with the form to add one."""
    return _users_page(UserAddForm())


@bp.post("/users")
@require_role(*ADMINS)
def add() -> BaseResponse | tuple[str, int]:
    """Add a user; the audit log records who added whom."""
    form = UserAddForm()
    if not form.validate_on_submit():
        return _users_page(form), 400
    try:
        user = add_user(
            session=db_session(),
            user_in=UserIn(
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                display_name=form.display_name.data or "",
                authority_tier=form.authority_tier.data,
                team=form.team.data or None,
                locale=form.locale.data,
            ),
            actor_id=current_user.id,
        )
    except UserError as exc:
        db_session().rollback()
        return _users_page(form, error=str(exc)), 400
    db_session().commit()
    flash(_("Added %(role)s %(username)s.", role=user.role, username=user.username), "success")
    return redirect(url_for("admin.users"))


def _users_page(form: UserAddForm, error: str | None = None) -> str:
    return render_template("admin/users.html", users=list_users(session=db_session()), form=form, error=error)
