"""Error responses: a small page for people, JSON ``{"error": {"code", "message"}}`` for machines."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from retention_desk.web.inputs import BadInput

JSON_PATHS = ("/api/", "/healthz", "/readyz")

MESSAGES = {
    400: ("bad_request", _l("The request could not be understood. Check what you entered and try again.")),
    401: ("unauthorized", _l("Please sign in to continue.")),
    403: ("forbidden", _l("You do not have permission to open this page.")),
    404: ("not_found", _l("There is nothing at this address.")),
    405: ("method_not_allowed", _l("This address does not accept that kind of request.")),
    429: ("too_many_requests", _l("Too many attempts. Please wait a few minutes and try again.")),
    500: ("internal_error", _l("Something went wrong on our side. It has been logged; please try again.")),
}
CSRF_MESSAGE = _l("The form's security token is missing or has expired. Reload the page and submit the form again.")


def wants_json() -> bool:
    return request.path.startswith(JSON_PATHS)


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


def handle_http_error(exc: HTTPException) -> tuple[Response | str, int] | HTTPException:
    status = exc.code or 500
    if status < 400:
        return exc
    code, message = MESSAGES.get(status, (exc.name.lower().replace(" ", "_"), exc.description or exc.name))
    if isinstance(exc, BadInput):
        message = exc.description
    return error_response(status, code, str(message))


def handle_csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
    return error_response(400, "csrf_failed", str(CSRF_MESSAGE))


def handle_server_error(exc: InternalServerError) -> tuple[Response | str, int]:
    code, message = MESSAGES[500]
    return error_response(500, code, str(message))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
