"""Relaying a generation onto the wire: directly, or through a stream buffer.

Two shapes. A direct stream (`POST /api/answer`, `/api/feedback`) lives exactly
as long as its reader, so `direct()` reads the upstream in the connection's own
greenlet and writes each token as it comes: no buffer, no second greenlet, no
wake-up per token. A stored stream (`/api/streams`) keeps generating while its
reader is away, so `start()` runs `pump()` in its own greenlet into a buffer and
`read()` serves readers from it, resuming with `Last-Event-ID`. A completion
without `idle_ticks` (the SDK behind a proxy) takes the second shape even for a
direct stream, because only the buffer's wait can time heartbeats for it.

Where this departs from the design card: the card has the view return
`Response(stream_with_context(generator))`, and every SSE response here does
(`web/sse_response.py`), so `direct()` and `read()` run inside the request's context and
their log lines carry its request id. `pump()` cannot: it runs in a greenlet of
its own that outlives the request that started it (a reader may leave and come
back), so it gets the request id as an argument instead of a context.

Error phases: a failure before the first byte is raised by `LLM.open()` and the
API answers it with a real status; every failure after that becomes one `error`
event, and a log line with its code and the request id (never content). Every
stream ends with exactly one `done` or `error` event: `direct()` writes exactly
one, and the buffer refuses anything after the first.

Disconnects: a reader's departure is only noticed when a write fails; the server
then calls `close()` on the response body, `GeneratorExit` arrives at the current
`yield`, and `finally` runs. A response dropped before its first iteration runs
no `finally` at all, so `Generation.end()` is also called from the body's
`close()` (`web/sse_response.py`) and does its work exactly once, whichever comes first.

Heartbeats: after `SSE_HEARTBEAT_SECONDS` without a write a `: ping` comment goes
out, so idle proxies keep the connection and a departed client is noticed even
while the model is silent. `direct()` gets that moment from the upstream read's
own deadline (`Completion.texts(idle)`); `read()` waits on the buffer in slices
of at most 5 s, so a draining worker can let a reader go promptly.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from interview_app.ids import REQUEST_ID
from interview_app.llm.port import Completion, StreamFailure
from interview_app.problems import CANCELLED, INTERNAL, STORE_DOWN, Problem
from interview_app.streaming import metrics
from interview_app.streaming.forecast import Flow, Forecast
from interview_app.streaming.sse import PING, json_event, retry, text_event
from interview_app.streaming.store import StoreUnavailable, Stream

log = logging.getLogger(__name__)

_MAX_WAIT = 5.0
_UNCOUNTED = Forecast(0.0).flow()  # a generation opened outside the gates (tests)
_ERROR_CODE = re.compile(rb'^event: error\n.*"code":"([a-z_]+)"', re.MULTILINE | re.DOTALL)


@dataclass
class Tally:
    """What one response delivered, and what to do once when it ends (its log line)."""

    started: float  # time.monotonic() when the request arrived
    outcome: str = "client_left"
    events: int = 0  # text events written to this reader
    ttft: float | None = None  # seconds from the request to the first text event
    on_end: list[Callable[[], None]] = field(default_factory=list)

    def end(self) -> None:
        """Run the `on_end` callbacks, once: from the body's `finally` or its `close()`."""
        callbacks, self.on_end = self.on_end, []
        for callback in callbacks:
            callback()


# Keeps a finished generation (history): (outcome, done payload or None, text, ttft,
# duration), and answers the fields to add to `done` ({"attempt_id", "saved"}).
Recorder = Callable[[str, "dict[str, Any] | None", str, "float | None", float], "dict[str, Any]"]


class Text:
    """The text of a generation so far, kept for its one history write at the end.

    Tokens are joined every `BATCH`: a held stream keeps one string rather than an
    object per token (each a few dozen bytes of overhead on text of a few bytes).
    """

    BATCH = 8
    __slots__ = ("_joined", "_parts")

    def __init__(self) -> None:
        self._joined = ""
        self._parts: list[str] = []

    def append(self, text: str) -> None:
        """Add one token."""
        parts = self._parts
        parts.append(text)
        if len(parts) >= self.BATCH:
            self._joined += "".join(parts)
            parts.clear()

    def __str__(self) -> str:
        return self._joined + "".join(self._parts)


class Generation:
    """One upstream generation and its bookkeeping, ended exactly once.

    `cancel(problem)` ends it from outside (DELETE, grace period, shutdown); the
    relay then reports that problem, not the upstream failure our own close causes.
    With a `recorder`, the text is kept as it streams (one list append a token) and
    handed over once, when the generation ends: before `done` is written, so `done`
    can say where it was saved, or at the end for any other outcome.
    """

    def __init__(
        self,
        completion: Completion,
        on_end: Callable[[str], None],
        started: float,
        recorder: Recorder | None = None,
        flow: Flow | None = None,
    ) -> None:
        self.completion = completion
        # Its share of the worker's token load (forecast.py): each token observed.
        self.flow = flow or _UNCOUNTED
        self.started = started
        self.stopped: Problem | None = None
        self.parts: Text | None = Text() if recorder is not None else None
        self.ttft: float | None = None
        self._recorder = recorder
        self._on_end = on_end
        self._ended = False
        self._lock = threading.Lock()
        metrics.STREAMS_ACTIVE.inc()

    def record(self, outcome: str, summary: dict[str, Any] | None = None) -> dict[str, Any]:
        """Hand the finished generation to the recorder, once; the fields for `done`."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return {}
        text = str(self.parts or "")
        return recorder(outcome, summary, text, self.ttft, time.monotonic() - self.started)

    def done(self) -> dict[str, Any]:
        """The `done` payload: the completion's summary and where it was recorded.

        A recorder that fails unexpectedly costs the record, not the candidate's answer:
        `done` still comes, saying it was not saved (an overflow in the review queue
        once turned a finished feedback into an error event)."""
        summary = self.completion.summary()
        try:
            summary.update(self.record("done", summary))
        except Exception:
            log.exception("recording the generation failed")
            summary["saved"] = False
        return summary

    def cancel(self, problem: Problem) -> None:
        """End generation now; `problem` says why (unless it has already ended)."""
        if self.stopped is None and not self._ended:
            self.stopped = problem
        self.completion.close()

    def end(self, outcome: str, tokens: int = 0) -> None:
        """Close the upstream, count the stream and release its ticket: once."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self.completion.close()
        try:
            self.record(outcome)  # no `done` was written: still kept
        except Exception:
            log.exception("recording the generation failed")
        self.flow.end()
        metrics.TOKENS_RELAYED.inc(tokens)
        metrics.STREAMS_FINISHED.labels(outcome).inc()
        metrics.STREAMS_ACTIVE.dec()
        self._on_end(outcome)


def _failed(exc: StreamFailure, request_id: str | None) -> None:
    if exc.counted:
        return
    metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
    extra = (
        {"code": exc.code} if request_id is None else {"code": exc.code, "request_id": request_id}
    )
    log.warning("upstream failed mid-stream", extra=extra)


def pump(generation: Generation, stream: Stream, request_id: str | None) -> None:
    """Copy the generation into `stream` until it ends, fails or the stream is cancelled."""
    REQUEST_ID.set(request_id)  # every log line of this greenlet names its request
    completion = generation.completion
    outcome = "done"
    tokens = 0
    metrics.PRODUCERS.inc()
    try:
        parts = generation.parts
        counted = generation.flow.token
        for text in completion.texts():
            if not tokens:
                generation.ttft = time.monotonic() - generation.started
                metrics.TIME_TO_FIRST_TOKEN.observe(generation.ttft)
            tokens += 1
            counted()
            if parts is not None:
                parts.append(text)
            if not stream.append_text(text):
                outcome = (generation.stopped or CANCELLED).code
                return
        # Its tokens are over: its load is given back before `done` runs what follows
        # (an interview's next question waited behind the feedback that asked for it).
        generation.flow.end()
        if not stream.finish("done", generation.done()):
            outcome = (generation.stopped or CANCELLED).code
    except StreamFailure as exc:
        if generation.stopped is not None:
            outcome = generation.stopped.code  # our own close, not the upstream's fault
        elif stream.finish("error", exc.problem.event()):
            outcome = exc.code
            _failed(exc, request_id)
        else:
            outcome = CANCELLED.code
    except StoreUnavailable:
        outcome = STORE_DOWN.code
        log.warning("store unavailable: generation stopped", extra={"request_id": request_id})
    except Exception:
        # A cancel closes the upstream under the producer's feet; that is not a bug.
        try:
            ours = generation.stopped is None and stream.finish("error", INTERNAL.event())
        except StoreUnavailable:
            ours = False
        if ours:
            log.exception("producer failed", extra={"request_id": request_id})
            outcome = INTERNAL.code
        else:
            outcome = (generation.stopped or CANCELLED).code
    finally:
        metrics.PRODUCERS.dec()
        stream.done_generating()
        generation.end(outcome, tokens)


def start(generation: Generation, stream: Stream, request_id: str | None) -> None:
    """Run `pump` in its own thread (a greenlet under gevent)."""
    stream.on_cancel(generation.cancel)
    threading.Thread(target=pump, args=(generation, stream, request_id), daemon=True).start()


def _never() -> bool:
    return False


def _outcome(last_frame: bytes) -> str:
    match = _ERROR_CODE.search(last_frame)
    return match.group(1).decode() if match else "done"


def read(
    stream: Stream,
    *,
    after: int,
    heartbeat: float,
    retry_ms: int,
    tally: Tally,
    cancel_on_exit: bool,
    handoff: Callable[[], bool] = _never,
) -> Iterator[bytes]:
    """The SSE body for `stream` from id `after` on, with heartbeats.

    `handoff()` true means this worker is draining and another instance can serve
    the stream: the response ends without a terminal event, so EventSource
    reconnects (with Last-Event-ID) elsewhere.
    """
    attached = ended = False
    first = after
    try:
        yield retry(retry_ms)
        stream.attach()
        attached = True
        last_write = time.monotonic()
        while True:
            wait = min(_MAX_WAIT, max(0.0, heartbeat - (time.monotonic() - last_write)))
            frames, ended = stream.read(after, wait)
            if frames:
                if tally.ttft is None:
                    tally.ttft = time.monotonic() - tally.started
                after += len(frames)
                last_write = time.monotonic()
                yield b"".join(frames)
            if ended:
                tally.outcome = _outcome(frames[-1]) if frames else "done"
                tally.events = after - first - 1
                return
            if handoff():
                tally.outcome = "handed_over"
                return
            if not frames and time.monotonic() - last_write >= heartbeat:
                last_write = time.monotonic()
                yield PING
    except StoreUnavailable:
        ended = True
        tally.outcome = STORE_DOWN.code
        yield json_event(STORE_DOWN.event(), event="error")
    except GeneratorExit:
        metrics.CLIENT_DISCONNECTS.inc()
        raise
    finally:
        if not ended:
            tally.events = after - first
        try:
            if attached:
                stream.detach()
            if cancel_on_exit and not ended:
                stream.cancel(CANCELLED)
        finally:
            tally.end()


def direct(
    generation: Generation, *, heartbeat: float, retry_ms: int, tally: Tally
) -> Iterator[bytes]:
    """The SSE body of a direct stream, relayed by the connection's own greenlet.

    No buffer and no second greenlet: nothing outlives the reader, so the
    upstream is read right here, waiting at most `heartbeat` seconds at a time
    (`Completion.texts(idle)`), which is when a ping goes out. It needs a
    completion with `idle_ticks`; `pump` + `read` serve the others.
    """
    completion = generation.completion
    outcome = "client_left"
    tokens = 0
    try:
        yield retry(retry_ms)
        ending: Problem | None = None
        parts = generation.parts
        counted = generation.flow.token
        try:
            for text in completion.texts(heartbeat):
                if generation.stopped is not None:
                    break
                if not text:
                    yield PING
                    continue
                if not tokens:
                    tally.ttft = generation.ttft = time.monotonic() - generation.started
                    metrics.TIME_TO_FIRST_TOKEN.observe(tally.ttft)
                tokens += 1
                counted()
                if parts is not None:
                    parts.append(text)
                yield text_event(text, tokens)
        except StreamFailure as exc:
            if generation.stopped is None:
                _failed(exc, None)
                ending = exc.problem
        except Exception:
            # A stop closes the upstream under the reader's feet; that is not a bug.
            if generation.stopped is None:
                log.exception("direct stream failed")
                ending = INTERNAL
        ending = generation.stopped or ending
        if ending is not None:
            outcome = ending.code
            yield json_event(ending.event(), event="error", id=tokens + 1)
        else:
            outcome = "done"
            generation.flow.end()
            yield json_event(generation.done(), event="done", id=tokens + 1)
    except GeneratorExit:
        metrics.CLIENT_DISCONNECTS.inc()
        raise
    finally:
        tally.outcome = outcome
        tally.events = tokens
        generation.end(outcome, tokens)
        tally.end()
