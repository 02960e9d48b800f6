"""The HTTP API: JSON in, Server-Sent Events out.

Each view reads and validates everything from `request` first, opens the
upstream (so its failures are still real HTTP statuses), and only then returns a
streaming Response (`sse_response.py`) whose generator gets plain values as
arguments and runs inside the request's context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, jsonify, request

from interview_app import problems
from interview_app.coaching import questions
from interview_app.coaching.request import CoachingRequest, Kind, detect_language
from interview_app.history.repository import History, new_attempt_id
from interview_app.llm.port import LLM, UpstreamError
from interview_app.problems import Refused, invalid
from interview_app.settings import Settings
from interview_app.streaming import metrics, relay
from interview_app.streaming.lifecycle import Lifecycle
from interview_app.streaming.memory import MemoryStream
from interview_app.streaming.quotas import Quotas, Ticket
from interview_app.streaming.store import Store, StoreUnavailable, Stream
from interview_app.web import identity, urls
from interview_app.web.body import BodyReader
from interview_app.web.logs import OncePer
from interview_app.web.sse_response import sse_response

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)
_busy_log = OncePer(10.0)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["interview_app.settings"]
    return settings


def json_body(limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object, read under the body limits (`web/body.py`)."""
    if not request.is_json:
        raise invalid("unsupported_media_type", "Send the body as application/json.", 415)
    reader: BodyReader = current_app.extensions["interview_app.body"]
    try:
        data = orjson.loads(reader.read(request, _client(), limit))
    except orjson.JSONDecodeError:
        raise invalid("invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("invalid_body", "The body must be a JSON object.")
    return data


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise invalid("missing_field", f"'{name}' is required.")
        return None
    if not isinstance(value, str):
        raise invalid("invalid_field", f"'{name}' must be a string.")
    if not value.strip():
        if required:
            raise invalid("missing_field", f"'{name}' must not be empty.")
        return None
    if len(value) > limit:
        raise invalid("too_long", f"'{name}' is longer than {limit} characters.")
    return value


def parse_request(data: dict[str, Any], kind: Kind, settings: Settings) -> CoachingRequest:
    """Validate a coaching request body for `kind`."""
    question = _text(data, "question", settings.max_question_chars, required=True)
    answer = _text(data, "answer", settings.max_answer_chars, required=kind == "feedback")
    role = _text(data, "role", settings.max_role_chars, required=False)
    language = data.get("language")
    if language is None:
        language = detect_language(question, answer)
    elif language not in ("ko", "en"):
        raise invalid("invalid_field", "'language' must be 'ko' or 'en'.")
    assert question is not None
    return CoachingRequest(kind, question, answer if kind == "feedback" else None, language, role)


def _client() -> str:
    # ProxyFix (TRUSTED_PROXIES) has already taken X-Forwarded-For into account.
    return request.remote_addr or "unknown"


@dataclass
class Opened:
    """An admitted request with its upstream open: what a view streams from."""

    generation: relay.Generation
    ticket: Ticket
    stream: Stream | None


def _save(data: dict[str, Any]) -> bool:
    save = data.get("save", True)
    if not isinstance(save, bool):
        raise invalid("invalid_field", "'save' must be true or false.")
    return save


def _recorder(
    req: CoachingRequest,
    save: bool,
    llm: LLM,
    interview_id: str | None = None,
    then: relay.Recorder | None = None,
) -> relay.Recorder | None:
    """What keeps this stream in the candidate's history when it ends (None: history off);
    `then` runs after it (an interview deciding its next turn) and adds its fields."""
    history: History | None = current_app.extensions.get("interview_app.history")
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
            },
        )
        fields: dict[str, Any] = (
            {"attempt_id": attempt_id, "saved": True} if saved else {"saved": False}
        )
        if then is not None:
            fields.update(then(outcome, summary, text, ttft, duration))
        return fields

    return record


def open_generation(
    req: CoachingRequest,
    make_stream: Callable[[], Stream] | None = None,
    *,
    save: bool = True,
    interview_id: str | None = None,
    then: relay.Recorder | None = None,
) -> Opened:
    """Admit, make the stream (if stored), and open the upstream (for other blueprints too)."""
    ext = current_app.extensions
    lifecycle: Lifecycle = ext["interview_app.lifecycle"]
    if lifecycle.stopping.is_set():
        raise Refused(problems.RESTARTING)
    started = time.monotonic()
    quotas: Quotas = ext["interview_app.quotas"]
    ticket = quotas.admit(_client())
    llm: LLM = ext["interview_app.llm"]
    stream = None
    try:
        # The stream first: if the store is down, no upstream request is spent.
        if make_stream is not None:
            stream = make_stream()
        # At most a few upstream requests being opened at once: a burst of new streams
        # must not starve the tokens of running ones (issue 14: fairness).
        with ext["interview_app.opening"]:
            completion = llm.open(req)
    except UpstreamError as exc:
        ticket.release()
        if exc.problem is problems.SERVER_BUSY:
            # Out of descriptors: a burst of these is one event, logged once.
            if _busy_log.ready():
                log.warning("at capacity: no file descriptor for the upstream")
        else:
            metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
            log.warning("upstream failed before the stream", extra={"code": exc.code})
        if stream is not None:
            # Nobody will read it (its id is never given out); ended, it expires.
            stream.finish("error", exc.problem.event())
        raise Refused(exc.problem, retry_after=exc.retry_after) from None
    except BaseException:
        ticket.release()
        if stream is not None:
            # Ended, it expires; unended, it would wait for a producer that never comes.
            try:
                stream.finish("error", problems.INTERNAL.event())
            except StoreUnavailable:
                pass  # its keys expire on their own TTL
        raise
    metrics.STREAMS_STARTED.labels(req.kind, llm.name).inc()
    recorder = _recorder(req, save, llm, interview_id, then)
    generation = relay.Generation(completion, ticket.release, started, recorder)
    return Opened(generation, ticket, stream)


def _start(req: CoachingRequest, make_stream: Callable[[], Stream], save: bool) -> Stream:
    """Admit, open the upstream and start generating into a new stream."""
    opened = open_generation(req, make_stream, save=save)
    assert opened.stream is not None
    opened.ticket.stream = opened.stream
    relay.start(opened.generation, opened.stream, g.get("ia_request_id"))
    return opened.stream


def _direct(kind: Kind) -> Response:
    settings = _settings()
    data = json_body()
    req = parse_request(data, kind, settings)
    opened = open_generation(req, save=_save(data))
    generation = opened.generation
    tally = relay.Tally(generation.started)
    if generation.completion.idle_ticks:
        opened.ticket.stream = generation
        body = relay.direct(
            generation,
            heartbeat=settings.sse_heartbeat_seconds,
            retry_ms=settings.sse_retry_ms,
            tally=tally,
        )
        # Dropped before its first iteration, the generator's `finally` never runs.
        return sse_response(body, tally, on_close=lambda: generation.end("client_left"))
    stream = MemoryStream()
    opened.ticket.stream = stream
    relay.start(generation, stream, g.get("ia_request_id"))
    body = relay.read(
        stream,
        after=0,
        heartbeat=settings.sse_heartbeat_seconds,
        retry_ms=settings.sse_retry_ms,
        tally=tally,
        cancel_on_exit=True,
    )
    return sse_response(body, tally, on_close=lambda: stream.cancel(problems.CANCELLED))


@bp.post("/api/answer")
def answer() -> Response:
    """Stream a model answer to an interview question."""
    return _direct("answer")


@bp.post("/api/feedback")
def feedback() -> Response:
    """Stream coaching feedback on a candidate's answer."""
    return _direct("feedback")


def _store() -> Store:
    store: Store = current_app.extensions["interview_app.store"]
    return store


@bp.post("/api/streams")
def create_stream() -> tuple[Response, int, dict[str, str]]:
    """Start a generation and return where to read it (EventSource cannot POST)."""
    settings = _settings()
    data = json_body()
    kind = data.get("kind")
    if kind not in ("answer", "feedback"):
        raise invalid("invalid_field", "'kind' must be 'answer' or 'feedback'.")
    req = parse_request(data, kind, settings)
    save = _save(data)
    try:
        stream = _start(req, _store().create, save)
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    url = urls.at(f"/api/streams/{stream.id}")
    return jsonify({"id": stream.id, "url": url}), 201, {"Location": url}


def _last_event_id() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise invalid("invalid_last_event_id", "Last-Event-ID must be a number.") from None
    if value < 0:
        raise invalid("invalid_last_event_id", "Last-Event-ID must be >= 0.")
    return value


def _find(stream_id: str) -> Stream:
    try:
        stream = _store().get(stream_id)
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    if stream is None:
        raise Refused(problems.STREAM_NOT_FOUND)
    return stream


@bp.get("/api/streams/<stream_id>")
def read_stream(stream_id: str) -> Response:
    """The SSE stream of a stored generation, resumable with Last-Event-ID."""
    settings = _settings()
    after = _last_event_id()
    stream = _find(stream_id)
    try:
        last, ended = stream.size()
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    if ended and after >= last:
        # 204 is the one answer that makes EventSource stop reconnecting.
        return Response(status=204)
    store = _store()
    lifecycle: Lifecycle = current_app.extensions["interview_app.lifecycle"]

    def handoff() -> bool:
        return lifecycle.stopping.is_set() and not store.is_local(stream_id)

    tally = relay.Tally(time.monotonic())
    body = relay.read(
        stream,
        after=min(after, last),
        heartbeat=settings.sse_heartbeat_seconds,
        retry_ms=settings.sse_retry_ms,
        tally=tally,
        cancel_on_exit=False,
        handoff=handoff,
    )
    return sse_response(body, tally)


@bp.delete("/api/streams/<stream_id>")
def cancel_stream(stream_id: str) -> Response:
    """Stop a generation now (the page's stop button), rather than after the grace period."""
    stream = _find(stream_id)
    try:
        stream.cancel(problems.CANCELLED)
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    return Response(status=204)


@bp.get("/api/questions")
def question_bank() -> Response:
    """The built-in bilingual question bank."""
    return jsonify(questions.as_json())


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness, and which backend answers."""
    llm: LLM = current_app.extensions["interview_app.llm"]
    return jsonify({"status": "ok", "backend": llm.name, "model": llm.model})
