"""One JSON error shape for every 4xx/5xx: `{"error": {"code": str, "message": str}}`.

These are the errors of the phase *before* a stream's first byte; once a stream has
begun, failures travel as an `error` event instead (see `streaming/relay.py`). The
codes and wordings live in one catalogue, `problems.py`.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

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


def register(scope: Flask | Blueprint) -> None:
    """Answer every error of `scope` in the JSON shape: our routes under a host app, or
    every URL of the app when it is ours alone."""
    scope.register_error_handler(Refused, _refused)
    scope.register_error_handler(HTTPException, _http_error)
    # By status code too: Flask tries every scope's code handlers (a host's
    # `errorhandler(404)`) before any class handler, even one of the blueprint's.
    for status in default_exceptions:
        scope.register_error_handler(status, _http_error)
    scope.register_error_handler(Exception, _unexpected)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def claim_prefix(scope: Blueprint) -> None:
    """Make every URL under `scope`'s prefix ours, so that an unknown one gets our JSON 404
    (or 405) and not the host app's page: werkzeug routes a URL no rule matches to no
    blueprint, so the host's handlers would answer it."""

    def unknown(rest: str) -> Response:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        allowed = set()
        for method in _METHODS:
            try:
                rule, _ = adapter.match(method=method, return_rule=True)
            except HTTPException:
                continue
            if rule.endpoint != request.endpoint:
                allowed.add(method)
        if allowed:
            raise MethodNotAllowed(valid_methods=sorted(allowed | {"OPTIONS"}))
        raise NotFound()

    scope.add_url_rule("/<path:rest>", "unknown", unknown, methods=_METHODS)
