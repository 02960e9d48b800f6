"""What every blueprint does with a request: read its JSON, know its client, open a
generation (admission, the upstream, the attempt that keeps it), map failures to problems.

Blueprints import this module and never each other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from flask import g, request

from interview_app import problems
from interview_app.coaching.request import CoachingRequest
from interview_app.history.db import HistoryUnavailable
from interview_app.history.repository import new_attempt_id
from interview_app.ids import REQUEST_ID
from interview_app.interviews.service import Caller, Opener
from interview_app.llm.completions import Opening, Pending
from interview_app.llm.port import Completion, UpstreamError
from interview_app.problems import Refused, invalid
from interview_app.speech import offload
from interview_app.speech.audio import Audio, TooLong, Unreadable, decode
from interview_app.streaming import metrics, relay
from interview_app.streaming.quotas import Ticket
from interview_app.streaming.store import StoreUnavailable, Stream
from interview_app.web import identity, urls
from interview_app.web.logs import OncePer
from interview_app.web.services import services

log = logging.getLogger("interview_app.web.api")
_busy_log = OncePer(10.0)
T = TypeVar("T")


def json_body(limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object, read under the body limits (`web/body.py`)."""
    if not request.is_json:
        raise invalid("unsupported_media_type", "Send the body as application/json.", 415)
    try:
        data = orjson.loads(services().body.read(request, client(), limit))
    except orjson.JSONDecodeError:
        raise invalid("invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("invalid_body", "The body must be a JSON object.")
    return data


def client() -> str:
    """Who quotas count this request against."""
    # ProxyFix (TRUSTED_PROXIES) has already taken X-Forwarded-For into account.
    return request.remote_addr or "unknown"


def caller() -> Caller:
    """This request's identity, client and mount, for work that outlives it."""
    return Caller(identity.current(), client(), urls.base(), g.get("ia_request_id"))


def decoded(data: bytes) -> Audio:
    """`data` decoded off the hub as a recording, or refused: 422 (not audio of an accepted
    container) or 413 (longer than `MAX_AUDIO_SECONDS`)."""
    max_seconds = services().settings.max_audio_seconds
    try:
        return offload.call(lambda: decode(data, max_seconds))
    except Unreadable:
        raise Refused(problems.AUDIO_UNREADABLE) from None
    except TooLong:
        message = f"The recording is longer than {max_seconds:g} seconds."
        raise Refused(problems.AUDIO_TOO_LONG.saying(message)) from None


def checked_audio(data: bytes) -> Audio:
    """`decoded(data)` in one of the worker's `MAX_TRANSCRIPTIONS` slots (503 if none is
    free): decoding is the costly part of any upload, and is bounded like recognition."""
    slots = services().transcriptions
    if not slots.acquire(blocking=False):
        raise Refused(problems.SERVER_BUSY)
    try:
        return decoded(data)
    finally:
        slots.release()


def call(work: Callable[[], T]) -> T:
    """`work()`, with a data store being down answered as 503."""
    try:
        return work()
    except HistoryUnavailable:
        raise Refused(problems.HISTORY_DOWN) from None
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None


@dataclass
class Opened:
    """An admitted request with its upstream open: what a view streams from."""

    generation: relay.Generation
    ticket: Ticket
    stream: Stream | None


def _recorder(
    req: CoachingRequest,
    save: bool,
    interview_id: str | None = None,
    then: relay.Recorder | None = None,
) -> relay.Recorder | None:
    """What keeps this stream in the candidate's history when it ends (None: history off);
    `then` runs after it (an interview deciding its next turn) and adds its fields."""
    found = services()
    history, llm = found.history, found.llm
    if history is None:
        return then
    if not save:
        return lambda *_: {"saved": False}
    who = identity.current()
    attempt_id = new_attempt_id()

    def record(
        outcome: str,
        summary: dict[str, Any] | None,
        text: str,
        ttft: float | None,
        duration: float,
    ) -> dict[str, Any]:
        summary = summary or {}
        saved = history.save(
            who,
            attempt_id,
            {
                "kind": req.kind,
                "question": req.question,
                "answer": req.answer,
                "role": req.role,
                "language": req.language,
                "text": text,
                "analysis": summary.get("analysis"),
                "backend": llm.name,
                "model": summary.get("model") or llm.model,
                "usage": summary.get("usage"),
                "ttft_ms": None if ttft is None else round(ttft * 1000, 1),
                "duration_ms": round(duration * 1000, 1),
                "outcome": outcome,
                "interview_id": interview_id,
                "delivery": req.delivery,
            },
        )
        fields: dict[str, Any] = (
            {"attempt_id": attempt_id, "saved": True} if saved else {"saved": False}
        )
        if then is not None:
            fields.update(then(outcome, {**summary, **fields}, text, ttft, duration))
        return fields

    return record


# How long a view waits for the upstream's answer before its stream begins without it.
OPEN_GRACE_SECONDS = 1.0


def _log_failed_open(exc: Exception) -> None:
    """The log line and metric of an upstream that failed to open."""
    if not isinstance(exc, UpstreamError):
        log.exception("opening the upstream failed", exc_info=exc)
    elif exc.problem is problems.CANCELLED:
        pass  # the reader left before the upstream was asked: nothing failed
    elif exc.problem is problems.SERVER_BUSY:
        # Out of descriptors: a burst of these is one event, logged once.
        if _busy_log.ready():
            log.warning("at capacity: no file descriptor for the upstream")
    else:
        metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
        log.warning("upstream failed to open", extra={"code": exc.code})


def _problem_of(exc: BaseException) -> problems.Problem:
    return exc.problem if isinstance(exc, UpstreamError | Refused) else problems.INTERNAL


def open_generation(
    req: CoachingRequest,
    make_stream: Callable[[], Stream] | None = None,
    *,
    save: bool = True,
    interview_id: str | None = None,
    then: relay.Recorder | None = None,
) -> Opened:
    """Admit, make the stream (if stored) and open the upstream for `req`."""
    found = services()
    if found.lifecycle.stopping.is_set():
        raise Refused(problems.RESTARTING)
    started = time.monotonic()
    ticket = found.quotas.admit(client())
    llm = found.llm
    stream = None
    opening: Opening | None = None

    request_id = g.get("ia_request_id")

    def open_now() -> Completion:
        if opening is not None and opening.abandoned:
            # The reader left while it waited its turn: the model server is not asked.
            raise UpstreamError(problems.CANCELLED)
        return llm.open(req)

    def open_upstream() -> Completion:
        REQUEST_ID.set(request_id)  # its log lines name the request, in its own greenlet
        # A burst of new streams must not starve the tokens of running ones: each waits
        # while the worker's loop runs late (streaming/hub.py), and at most
        # MAX_OPENING_STREAMS upstream requests are being opened at once.
        return found.hub.admit(found.opening, open_now)

    try:
        # The stream first: if the store is down, no upstream request is spent.
        if make_stream is not None:
            stream = make_stream()
        # The open runs in a thread of its own: a refusal within the grace is still an
        # HTTP status; past it the stream begins (headers, `retry:`, pings) and waits.
        opening = Opening(open_upstream)
        completion = opening.result(min(OPEN_GRACE_SECONDS, found.settings.sse_heartbeat_seconds))
    except UpstreamError as exc:
        ticket.release()
        _log_failed_open(exc)
        if stream is not None:
            # Nobody will read it (its id is never given out); ended, it expires.
            stream.finish("error", exc.problem.event())
        raise Refused(exc.problem, retry_after=exc.retry_after) from None
    except BaseException:
        ticket.release()
        if opening is not None:
            opening.abandon()
        if stream is not None:
            # Ended, it expires; unended, it would wait for a producer that never comes.
            try:
                stream.finish("error", problems.INTERNAL.event())
            except StoreUnavailable:
                pass  # its keys expire on their own TTL
        raise
    if completion is None:
        assert opening is not None
        completion = Pending(
            opening, _problem_of, _log_failed_open, getattr(llm, "idle_ticks", True)
        )
    metrics.STREAMS_STARTED.labels(req.kind, llm.name).inc()
    recorder = _recorder(req, save, interview_id, then)
    generation = relay.Generation(completion, ticket.release, started, recorder)
    # What shutdown ends: the stored stream (its readers hear why), or the generation.
    ticket.stream = stream if stream is not None else generation
    return Opened(generation, ticket, stream)


def opener(interview_id: str) -> Opener:
    """How an interview opens an answer's feedback: as every coaching stream, kept with it."""

    def open_feedback(
        req: CoachingRequest, stream: Stream, then: relay.Recorder
    ) -> relay.Generation:
        opened = open_generation(req, lambda: stream, interview_id=interview_id, then=then)
        return opened.generation

    return open_feedback
