"""retention-desk: a cancellation-desk retention assistant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from retention_desk.config import Settings

__version__ = "0.1.0"


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the web app; settings come from the environment unless given (tests pass their own)."""
    if isinstance(config, Settings):
        settings, overrides = config, {}
    else:
        settings, overrides = Settings.from_env(), dict(config or {})
    settings.check_secret()

    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    app.config.update(overrides)
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a load balancer the client address (used for sign-in throttling and the audit log) and the
        # scheme come from X-Forwarded-* headers, trusted only for the configured number of hops.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]

    from retention_desk import web

    web.init_app(app)
    return app
