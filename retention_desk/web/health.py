"""Health endpoints for load balancers and orchestrators (no sign-in; no secrets in the answers)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, jsonify

from retention_desk.services.health import readiness
from retention_desk.web.context import app_settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve the desk: the database answers and a churn model is loaded."""
    result = readiness(settings=app_settings())
    body = {"status": "ok" if result.ok else "unavailable", **asdict(result)}
    return jsonify(body), 200 if result.ok else 503
