"""The web layer: extensions, per-request database session, error pages, headers and the blueprints."""

from __future__ import annotations

import os

from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale
from flask_htmx import HTMX
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from retention_desk.web import inputs
from retention_desk.web.context import app_settings, close_db_session
from retention_desk.web.errors import register_error_handlers
from retention_desk.web.filters import register_filters
from retention_desk.web.identity import load_user
from retention_desk.web.labels import label

LOCALES = ("en", "nb", "sv", "fi")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
htmx = HTMX()


def init_app(app: Flask) -> None:
    """Register extensions, hooks, filters and blueprints on the app built by ``create_app``."""
    limit_native_threads()
    inputs.init_app(app)
    csrf.init_app(app)
    _init_login(app)
    babel.init_app(app, locale_selector=select_locale)
    htmx.init_app(app)
    register_error_handlers(app)
    register_filters(app)
    app.teardown_appcontext(close_db_session)
    app.after_request(add_response_headers)
    app.context_processor(lambda: {"locales": LOCALES, "label": label, "get_locale": get_locale})
    _register_blueprints(app)


def limit_native_threads() -> None:
    """One BLAS/OpenMP thread per web worker: on two cores, parallel predict_proba made p99 latency explode.

    The environment covers libraries loaded later (read when they load); threadpoolctl covers loaded ones.
    """
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _init_login(app: Flask) -> None:
    from retention_desk.web.auth import unauthorized

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def select_locale() -> str:
    """The user's own language, else the browser's among those we have, else the configured default."""
    if not has_request_context():
        return app_settings().default_locale
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return request.accept_languages.best_match(LOCALES) or app_settings().default_locale


def add_response_headers(response: Response) -> Response:
    # Pages and their htmx fragments share URLs; caches must keep them apart.
    response.vary.add("HX-Request")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if not request.path.startswith("/static/"):
        # Subscriber data must not linger in shared or browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _register_blueprints(app: Flask) -> None:
    from retention_desk.web import admin, auth, desk, health, supervise

    for module in (auth, desk, health, supervise, admin):
        app.register_blueprint(module.bp)
