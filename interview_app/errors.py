"""One JSON error shape for every 4xx/5xx: `{"error": {"code": str, "message": str}}`.

These are the errors of the phase *before* a stream's first byte; once a stream has
begun, failures travel as an `error` event instead (see `relay.py`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

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


class ApiError(Exception):
    """An error answered as JSON with a real HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.retryable = retryable


def error_response(
    status: int, code: str, message: str, *, retry_after: int | None = None
) -> Response:
    """Build the JSON error response."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, retry_after=exc.retry_after)


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
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
