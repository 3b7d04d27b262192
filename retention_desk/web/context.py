"""Per-request helpers: the settings, one lazily opened database session, the caller's address, htmx or not, who
is opening a page."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user
from sqlmodel import Session

from retention_desk.config import Settings
from retention_desk.services.audit import Viewer
from retention_desk.services.database import close_session, open_session


def app_settings() -> Settings:
    return current_app.config["SETTINGS"]


def db_session() -> Session:
    """The request's session, opened on first use so pages that need no database never connect."""
    if "db_session" not in g:
        g.db_session = open_session(app_settings().database_url)
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    """Closing rolls back anything a view did not commit, so a failed request stores nothing half-done; a connection
    the database ended after the view ran does not turn its answer into a server error."""
    session = g.pop("db_session", None)
    if session is not None:
        close_session(session)


def client_ip() -> str | None:
    return request.remote_addr


def wants_fragment() -> bool:
    """An htmx request that is not a history restore: those get the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def page_viewer() -> Viewer:
    """The signed-in user opening this page, from where, and the page (method and path: a query string can hold a
    phone number, so it is left out of the audit log)."""
    return Viewer(
        user_id=current_user.id,
        username=current_user.username,
        route=f"{request.method} {request.path}",
        ip=client_ip(),
    )
