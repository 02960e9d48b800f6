"""The HTTP API: JSON in, Server-Sent Events out.

Each view reads and validates everything from `request` first, opens the
upstream (so its failures are still real HTTP statuses), and only then returns a
streaming Response whose generator gets plain values as arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, jsonify, request

from interview_app import metrics, relay
from interview_app.errors import ApiError
from interview_app.lifecycle import Lifecycle
from interview_app.llm import LLM, Completion, UpstreamError
from interview_app.prompts import Kind, Request, detect_language
from interview_app.quotas import Quotas, Ticket
from interview_app.settings import Settings
from interview_app.streams import MemoryStream, Store, StoreUnavailable, Stream

bp = Blueprint("api", __name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_STORE_DOWN = (503, "store_unavailable", "Our data store is unavailable. Please retry shortly.")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["interview_app.settings"]
    return settings


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        data = orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    return data


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(400, "missing_field", f"'{name}' is required.")
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"'{name}' must be a string.")
    if not value.strip():
        if required:
            raise ApiError(400, "missing_field", f"'{name}' must not be empty.")
        return None
    if len(value) > limit:
        raise ApiError(400, "too_long", f"'{name}' is longer than {limit} characters.")
    return value


def parse_request(data: dict[str, Any], kind: Kind, settings: Settings) -> Request:
    """Validate a coaching request body for `kind`."""
    question = _text(data, "question", settings.max_question_chars, required=True)
    answer = _text(data, "answer", settings.max_answer_chars, required=kind == "feedback")
    role = _text(data, "role", settings.max_role_chars, required=False)
    language = data.get("language")
    if language is None:
        language = detect_language(question, answer)
    elif language not in ("ko", "en"):
        raise ApiError(400, "invalid_field", "'language' must be 'ko' or 'en'.")
    assert question is not None
    return Request(kind, question, answer if kind == "feedback" else None, language, role)


def _client() -> str:
    # ProxyFix (TRUSTED_PROXIES) has already taken X-Forwarded-For into account.
    return request.remote_addr or "unknown"


def _open(
    req: Request, make_stream: Callable[[], Stream] | None = None
) -> tuple[Completion, Stream | None, Ticket, float]:
    """Admit, make the stream (if stored), and open the upstream."""
    ext = current_app.extensions
    lifecycle: Lifecycle = ext["interview_app.lifecycle"]
    if lifecycle.stopping.is_set():
        raise ApiError(503, "server_restarting", "The server is restarting.", retry_after=5)
    started = time.monotonic()
    quotas: Quotas = ext["interview_app.quotas"]
    ticket = quotas.admit(_client())
    llm: LLM = ext["interview_app.llm"]
    stream = None
    try:
        # The stream first: if the store is down, no upstream request is spent.
        if make_stream is not None:
            stream = make_stream()
        completion = llm.open(req)
    except UpstreamError as exc:
        ticket.release()
        metrics.UPSTREAM_ERRORS.labels(exc.code).inc()
        if stream is not None:
            # Nobody will read it (its id is never given out); ended, it expires.
            stream.finish("error", {"code": exc.code, "message": exc.message, "retryable": True})
        raise ApiError(exc.status, exc.code, exc.message, retry_after=exc.retry_after) from None
    except BaseException:
        ticket.release()
        raise
    metrics.STREAMS_STARTED.labels(req.kind, llm.name).inc()
    return completion, stream, ticket, started


def _generate(completion: Completion, stream: Stream, ticket: Ticket, started: float) -> None:
    """Generate into `stream` in its own greenlet."""
    ticket.stream = stream
    relay.start(completion, stream, ticket.release, started)


def _start(req: Request, make_stream: Callable[[], Stream]) -> Stream:
    """Admit, open the upstream and start generating into a new stream."""
    completion, stream, ticket, started = _open(req, make_stream)
    assert stream is not None
    _generate(completion, stream, ticket, started)
    return stream


def _sse(body: Iterator[bytes]) -> Response:
    # The generator goes to the server as it is: it yields bytes, so werkzeug's
    # encoding and closing wrappers would only add a layer per token. No request
    # context is kept either: the generator gets plain values.
    return Response(
        body, mimetype="text/event-stream", headers=SSE_HEADERS, direct_passthrough=True
    )


def _direct(kind: Kind) -> Response:
    settings = _settings()
    req = parse_request(_json_body(), kind, settings)
    completion, _, ticket, started = _open(req)
    if completion.idle_ticks:
        handle = relay.Direct(completion)
        ticket.stream = handle
        return _sse(
            relay.direct(
                completion,
                handle,
                heartbeat=settings.sse_heartbeat_seconds,
                retry_ms=settings.sse_retry_ms,
                on_end=ticket.release,
                started=started,
            )
        )
    stream = MemoryStream()
    _generate(completion, stream, ticket, started)
    body = relay.read(
        stream,
        after=0,
        heartbeat=settings.sse_heartbeat_seconds,
        retry_ms=settings.sse_retry_ms,
        cancel_on_exit=True,
    )
    return _sse(body)


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
    data = _json_body()
    kind = data.get("kind")
    if kind not in ("answer", "feedback"):
        raise ApiError(400, "invalid_field", "'kind' must be 'answer' or 'feedback'.")
    req = parse_request(data, kind, settings)
    try:
        stream = _start(req, _store().create)
    except StoreUnavailable:
        raise ApiError(*_STORE_DOWN, retry_after=5) from None
    url = f"/api/streams/{stream.id}"
    return jsonify({"id": stream.id, "url": url}), 201, {"Location": url}


def _last_event_id() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_last_event_id", "Last-Event-ID must be a number.") from None
    if value < 0:
        raise ApiError(400, "invalid_last_event_id", "Last-Event-ID must be >= 0.")
    return value


def _find(stream_id: str) -> Stream:
    try:
        stream = _store().get(stream_id)
    except StoreUnavailable:
        raise ApiError(*_STORE_DOWN, retry_after=5) from None
    if stream is None:
        raise ApiError(404, "stream_not_found", "No such stream: it never existed or expired.")
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
        raise ApiError(*_STORE_DOWN, retry_after=5) from None
    if ended and after >= last:
        # 204 is the one answer that makes EventSource stop reconnecting.
        return Response(status=204)
    store = _store()
    lifecycle: Lifecycle = current_app.extensions["interview_app.lifecycle"]

    def handoff() -> bool:
        return lifecycle.stopping.is_set() and not store.is_local(stream_id)

    body = relay.read(
        stream,
        after=min(after, last),
        heartbeat=settings.sse_heartbeat_seconds,
        retry_ms=settings.sse_retry_ms,
        cancel_on_exit=False,
        handoff=handoff,
    )
    return _sse(body)


@bp.delete("/api/streams/<stream_id>")
def cancel_stream(stream_id: str) -> Response:
    """Stop a generation now (the page's stop button), rather than after the grace period."""
    stream = _find(stream_id)
    try:
        stream.cancel(relay.CANCELLED)
    except StoreUnavailable:
        raise ApiError(*_STORE_DOWN, retry_after=5) from None
    return Response(status=204)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness, and which backend answers."""
    llm: LLM = current_app.extensions["interview_app.llm"]
    return jsonify({"status": "ok", "backend": llm.name, "model": llm.model})
