"""Relaying a generation onto the wire: directly, or through a stream buffer.

Two shapes. A direct stream (`POST /api/answer`, `/api/feedback`) lives exactly
as long as its reader, so `direct()` reads the upstream in the connection's own
greenlet and writes each token as it comes: no buffer, no second greenlet, no
wake-up per token. A stored stream (`/api/streams`) keeps generating while its
reader is away, so `start()` runs `pump()` in its own greenlet into a buffer and
`read()` serves readers from it, resuming with `Last-Event-ID`. A completion
without `idle_ticks` (the SDK behind a proxy) takes the second shape even for a
direct stream, because only the buffer's wait can time heartbeats for it.

Error phases: a failure before the first byte is raised by `LLM.open()` and the
API answers it with a real status; every failure after that becomes one `error`
event. Every stream ends with exactly one `done` or `error` event: `direct()`
writes exactly one, and the buffer refuses anything after the first.

Disconnects: a reader's departure is only noticed when a write fails; the server
then calls `close()` on our generator, `GeneratorExit` arrives at the current
`yield`, and `finally` runs. For a direct stream that closes the upstream at
once; a stored stream keeps generating for readers who come back, until the
store's grace period says nobody will.

Heartbeats: after `SSE_HEARTBEAT_SECONDS` without a write a `: ping` comment goes
out, so idle proxies keep the connection and a departed client is noticed even
while the model is silent. `direct()` gets that moment from the upstream read's
own deadline (`Completion.texts(idle)`); `read()` waits on the buffer in slices
of at most 5 s, so a draining worker can let a reader go promptly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from interview_app import metrics
from interview_app.llm import Completion, StreamFailure
from interview_app.sse import PING, json_event, text_event
from interview_app.streams import StoreUnavailable, Stream

log = logging.getLogger(__name__)

CANCELLED = {"code": "cancelled", "message": "Generation was stopped.", "retryable": False}
STORE_DOWN = {
    "code": "store_unavailable",
    "message": "Our data store is unavailable. Please retry shortly.",
    "retryable": True,
}
INTERNAL = {"code": "internal", "message": "The stream failed on our side.", "retryable": True}
_MAX_WAIT = 5.0


def pump(
    completion: Completion,
    stream: Stream,
    on_end: Callable[[str], None],
    started: float,
) -> None:
    """Copy `completion` into `stream` until it ends, fails or the stream is cancelled."""
    outcome = "done"
    tokens = 0
    try:
        for text in completion.texts():
            if not tokens:
                metrics.TIME_TO_FIRST_TOKEN.observe(time.monotonic() - started)
            tokens += 1
            if not stream.append_text(text):
                outcome = "cancelled"
                return
        if not stream.finish("done", completion.summary()):
            outcome = "cancelled"
    except StreamFailure as exc:
        outcome = exc.code
        metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
        stream.finish(
            "error", {"code": exc.code, "message": exc.message, "retryable": exc.retryable}
        )
    except StoreUnavailable:
        outcome = "store_unavailable"
        log.warning("store unavailable: generation stopped")
    except Exception:
        # A cancel closes the upstream under the producer's feet; that is not a bug.
        try:
            ours = stream.finish("error", INTERNAL)
        except StoreUnavailable:
            ours = False
        if ours:
            log.exception("producer failed")
            outcome = "internal"
        else:
            outcome = "cancelled"
    finally:
        _ended(completion, tokens, outcome, on_end)


def _ended(
    completion: Completion, tokens: int, outcome: str, on_end: Callable[[str], None]
) -> None:
    completion.close()
    metrics.TOKENS_RELAYED.inc(tokens)
    metrics.STREAMS_FINISHED.labels(outcome).inc()
    metrics.STREAMS_ACTIVE.dec()
    on_end(outcome)


def start(
    completion: Completion, stream: Stream, on_end: Callable[[str], None], started: float
) -> None:
    """Run `pump` in its own thread (a greenlet under gevent)."""
    stream.on_cancel(completion.close)
    metrics.STREAMS_ACTIVE.inc()
    threading.Thread(target=pump, args=(completion, stream, on_end, started), daemon=True).start()


def _never() -> bool:
    return False


def read(
    stream: Stream,
    *,
    after: int,
    heartbeat: float,
    retry_ms: int,
    cancel_on_exit: bool,
    handoff: Callable[[], bool] = _never,
) -> Iterator[bytes]:
    """The SSE body for `stream` from id `after` on, with heartbeats.

    `handoff()` true means this worker is draining and another instance can serve
    the stream: the response ends without a terminal event, so EventSource
    reconnects (with Last-Event-ID) elsewhere.
    """
    attached = ended = False
    try:
        yield b"retry: %d\n\n" % retry_ms
        stream.attach()
        attached = True
        last_write = time.monotonic()
        while True:
            wait = min(_MAX_WAIT, max(0.0, heartbeat - (time.monotonic() - last_write)))
            frames, ended = stream.read(after, wait)
            if frames:
                after += len(frames)
                last_write = time.monotonic()
                yield b"".join(frames)
            if ended or handoff():
                return
            if not frames and time.monotonic() - last_write >= heartbeat:
                last_write = time.monotonic()
                yield PING
    except StoreUnavailable:
        ended = True
        yield json_event(STORE_DOWN, event="error")
    except GeneratorExit:
        metrics.CLIENT_DISCONNECTS.inc()
        raise
    finally:
        if attached:
            stream.detach()
        if cancel_on_exit and not ended:
            stream.cancel(CANCELLED)


class Direct:
    """A direct stream's handle, for shutdown: `cancel()` ends it with an error event."""

    def __init__(self, completion: Completion) -> None:
        self._completion = completion
        self.ending: dict[str, Any] | None = None

    def cancel(self, payload: dict[str, Any]) -> None:
        if self.ending is None:
            self.ending = payload
            # Wakes the relay if it waits on the upstream; it then sends `ending`.
            self._completion.close()


def direct(
    completion: Completion,
    handle: Direct,
    *,
    heartbeat: float,
    retry_ms: int,
    on_end: Callable[[str], None],
    started: float,
) -> Iterator[bytes]:
    """The SSE body of a direct stream, relayed by the connection's own greenlet.

    No buffer and no second greenlet: nothing outlives the reader, so the
    upstream is read right here, waiting at most `heartbeat` seconds at a time
    (`Completion.texts(idle)`), which is when a ping goes out. It needs a
    completion with `idle_ticks`; `pump` + `read` serve the others.
    """
    outcome = "done"
    tokens = 0
    metrics.STREAMS_ACTIVE.inc()
    try:
        yield b"retry: %d\n\n" % retry_ms
        ending: dict[str, Any] | None = None
        try:
            for text in completion.texts(heartbeat):
                if handle.ending is not None:
                    break
                if not text:
                    yield PING
                    continue
                if not tokens:
                    metrics.TIME_TO_FIRST_TOKEN.observe(time.monotonic() - started)
                tokens += 1
                yield text_event(text, tokens)
        except StreamFailure as exc:
            if handle.ending is None:
                metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
                ending = {"code": exc.code, "message": exc.message, "retryable": exc.retryable}
        except Exception:
            # A cancel closes the upstream under the reader's feet; that is not a bug.
            if handle.ending is None:
                log.exception("direct stream failed")
                ending = INTERNAL
        ending = handle.ending or ending
        if ending is not None:
            outcome = ending["code"]
            yield json_event(ending, event="error", id=tokens + 1)
        else:
            yield json_event(completion.summary(), event="done", id=tokens + 1)
    except GeneratorExit:
        outcome = "cancelled"
        metrics.CLIENT_DISCONNECTS.inc()
        raise
    finally:
        _ended(completion, tokens, outcome, on_end)
