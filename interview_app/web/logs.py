"""Structured JSON logs with a request id, also returned as `X-Request-ID`.

A request id from the router (Heroku sends `X-Request-ID`) is kept when it looks
like one, so logs join across hops; otherwise a new one is made. Only metadata
is logged: never a body, never the candidate's text, never a credential.

One line per request. For a JSON answer it is written when the answer goes out;
for an event stream, when the stream ends (`sse_response.py` calls `request_line`
from the body's `close()`), with the real duration, the outcome (`done`, an
error code, `client_left`), the text events sent and the time to first token.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

from flask import Blueprint, Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from interview_app.ids import REQUEST_ID, new_id
from interview_app.web import urls

_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
log = logging.getLogger("interview_app.request")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = (
                g.get("ia_request_id") if has_request_context() else REQUEST_ID.get()
            )
        return True


def configure(json_logs: bool, level: str = "INFO") -> None:
    """Send the package's logs to stderr at `level` (LOG_LEVEL), as JSON lines when `json_logs`."""
    logger = logging.getLogger("interview_app")
    logger.setLevel(level)
    if any(getattr(h, "_interview_app", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._interview_app = True  # type: ignore[attr-defined]
    handler.addFilter(_RequestId())
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    logger.addHandler(handler)
    logger.propagate = False


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.ia_request_id = incoming if _VALID_ID.fullmatch(incoming) else new_id()
    g.ia_started = time.perf_counter()


def request_line(
    *, method: str, path: str, status: int, started: float, request_id: str, **extra: Any
) -> None:
    """Write the one log line of a request that began at `started` (perf_counter)."""
    log.info(
        "request",
        extra={
            "method": method,
            "path": path,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "request_id": request_id,
            **extra,
        },
    )


def is_event_stream(response: Response) -> bool:
    """Whether the response is one of our event streams (logged when it ends instead)."""
    return response.direct_passthrough and response.mimetype == "text/event-stream"


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("ia_request_id", "")
    if not urls.plumbing() and not is_event_stream(response):
        request_line(
            method=request.method,
            path=request.url_rule.rule if request.url_rule else "(unrouted)",
            status=response.status_code,
            started=g.get("ia_started", time.perf_counter()),
            request_id=g.get("ia_request_id", ""),
        )
    return response


def init_app(scope: Flask | Blueprint) -> None:
    """Give every request to `scope` (our routes, never a host's) an id and a log line."""
    scope.before_request(_start)
    scope.after_request(_finish)
