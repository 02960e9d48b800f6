"""The HTTP API: JSON in, Server-Sent Events out.

Each view reads and validates everything from `request` first, opens the
upstream (so its failures are still real HTTP statuses), and only then returns a
streaming Response (`sse_response.py`) whose generator gets plain values as
arguments and runs inside the request's context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from interview_app import problems
from interview_app.coaching import anchors, questions
from interview_app.coaching.delivery import parse as parse_delivery
from interview_app.coaching.interview import asked_story
from interview_app.coaching.request import CoachingRequest, Kind, detect_language
from interview_app.problems import Refused, invalid
from interview_app.settings import Settings
from interview_app.streaming import relay
from interview_app.streaming.memory import MemoryStream
from interview_app.streaming.store import StoreUnavailable, Stream
from interview_app.web import urls
from interview_app.web.services import services
from interview_app.web.shared import json_body, open_generation
from interview_app.web.sse_response import sse_response

bp = Blueprint("api", __name__)


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
    delivery = None
    if data.get("delivery") is not None and kind == "feedback":
        try:
            delivery = parse_delivery(data["delivery"], language)
        except ValueError as exc:
            raise invalid("invalid_field", str(exc)) from None
    answered = answer if kind == "feedback" else None
    # A bank question's kind is known: only the candidate's own question is read by its wording.
    story = asked_story(question)
    return CoachingRequest(kind, question, answered, language, role, delivery, story)


def _save(data: dict[str, Any]) -> bool:
    save = data.get("save", True)
    if not isinstance(save, bool):
        raise invalid("invalid_field", "'save' must be true or false.")
    return save


def _start(req: CoachingRequest, make_stream: Callable[[], Stream], save: bool) -> Stream:
    """Admit, open the upstream and start generating into a new stream."""
    opened = open_generation(req, make_stream, save=save)
    assert opened.stream is not None
    relay.start(opened.generation, opened.stream, g.get("ia_request_id"))
    return opened.stream


def _direct(kind: Kind) -> Response:
    settings = services().settings
    data = json_body()
    req = parse_request(data, kind, settings)
    opened = open_generation(req, save=_save(data))
    generation = opened.generation
    tally = relay.Tally(generation.started)
    if generation.completion.idle_ticks:
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


@bp.post("/api/streams")
def create_stream() -> tuple[Response, int, dict[str, str]]:
    """Start a generation and return where to read it (EventSource cannot POST)."""
    settings = services().settings
    data = json_body()
    kind = data.get("kind")
    if kind not in ("answer", "feedback"):
        raise invalid("invalid_field", "'kind' must be 'answer' or 'feedback'.")
    req = parse_request(data, kind, settings)
    save = _save(data)
    try:
        stream = _start(req, services().store.create, save)
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
        stream = services().store.get(stream_id)
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    if stream is None:
        raise Refused(problems.STREAM_NOT_FOUND)
    return stream


@bp.get("/api/streams/<stream_id>")
def read_stream(stream_id: str) -> Response:
    """The SSE stream of a stored generation, resumable with Last-Event-ID."""
    settings = services().settings
    after = _last_event_id()
    stream = _find(stream_id)
    try:
        last, ended = stream.size()
    except StoreUnavailable:
        raise Refused(problems.STORE_DOWN) from None
    if ended and after >= last:
        # 204 is the one answer that makes EventSource stop reconnecting.
        return Response(status=204)
    store, lifecycle = services().store, services().lifecycle

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


@bp.get("/api/rubric")
def rubric_anchors() -> Response:
    """The anchored scale every score is given by, in both languages."""
    return jsonify(anchors.as_json())


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness, which backend answers, the history database (ok | behind | down | off), and
    which speech recognition (`stt`) and speech (`tts`) the page gets."""
    found = services()
    database = "off" if found.history is None else found.history.health()
    body = {"status": "ok", "backend": found.llm.name, "model": found.llm.model}
    # What the page really gets: a speech server found to lack its endpoint has been
    # replaced (offline recognition; the browser's voice).
    stt = found.recognizer.name if found.recognizer is not None else "off"
    tts = found.settings.tts
    if tts == "model" and found.voice is not None and found.voice.absent:
        tts = "browser"
    speech = {"stt": stt, "tts": tts, "turn_end_seconds": found.settings.turn_end_seconds}
    return jsonify({**body, "database": database, **speech})
