"""One JSON error shape for every 4xx/5xx: `{"error": {"code": str, "message": str}}`.

These are the errors of the phase *before* a stream's first byte; once a stream has
begun, failures travel as an `error` event instead (see `streaming/relay.py`). The
codes and wordings live in one catalogue, `problems.py`.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from interview_app.problems import Refused

log = logging.getLogger(__name__)

# Werkzeug's names are English prose; clients want stable machine codes.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(
    status: int, code: str, message: str, *, retry_after: int | None = None
) -> Response:
    """Build the JSON error response."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _refused(exc: Refused) -> Response:
    problem = exc.problem
    return error_response(
        problem.status, problem.code, problem.message, retry_after=exc.retry_after
    )


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = error_response(
        status, _HTTP_CODES.get(status, f"http_{status}"), exc.description or exc.name
    )
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal", "Something went wrong on our side. Please retry.")


def register(app: Flask) -> None:
    """Answer every error of `app` in the JSON shape."""
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
