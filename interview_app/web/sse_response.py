"""The event-stream response: the design card's shape, closed exactly once.

`Response(stream_with_context(generator), mimetype="text/event-stream")`, with
`direct_passthrough=True` so werkzeug adds no encoding or closing layer per token.
The body handed to the server is a small iterable whose `__iter__` returns the
context-keeping generator itself (no extra layer per token either) and whose
`close()` (PEP 3333: the server always calls it, also when the client left before
the first byte, or a later hook threw the response away) closes the generator and
then runs our end-of-response work (`Tally.end()`): release the quota ticket and
close the upstream if the generator never ran, and write the request's one log
line. The relay's generators run the same work in their `finally`, so it happens
when the stream ends even where a server is slow to call `close()`; it runs once.

Why not `Response.call_on_close`: with `direct_passthrough` werkzeug hands the
server our iterable as it is, so callbacks registered there never run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Response, g, request, stream_with_context

from interview_app.streaming.relay import Tally
from interview_app.web.logs import request_line

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SSEBody:
    """The WSGI body of an event stream: iterates the generator; `close()` ends the tally."""

    def __init__(self, body: Iterator[bytes], tally: Tally) -> None:
        self._body = body
        self._tally = tally

    def __iter__(self) -> Iterator[bytes]:
        return self._body

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._tally.end()


def sse_response(
    body: Iterator[bytes], tally: Tally, *, on_close: Callable[[], None] | None = None
) -> Response:
    """An event-stream response for `body`; `on_close` runs once when it ends, however."""
    method = request.method
    path = request.url_rule.rule if request.url_rule else request.path
    request_id = g.get("ia_request_id", "")
    started = g.get("ia_started", time.perf_counter())

    def log_line() -> None:
        extra: dict[str, object] = {"outcome": tally.outcome, "events": tally.events}
        if tally.ttft is not None:
            extra["ttft_ms"] = round(tally.ttft * 1000, 1)
        request_line(
            method=method,
            path=path,
            status=200,
            started=started,
            request_id=request_id,
            **extra,
        )

    tally.on_end = [on_close, log_line] if on_close is not None else [log_line]
    return Response(
        SSEBody(stream_with_context(body), tally),
        mimetype="text/event-stream",
        headers=SSE_HEADERS,
        direct_passthrough=True,
    )
