"""The history API: a candidate's own attempts, listed, opened, compared, exported, deleted.

Every call works on the caller's identity only (the repository filters by it);
another identity's attempt id answers 404, never 403, so ids leak nothing. The
database down or slow answers 503 with `Retry-After`; streams are never affected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
from flask import Blueprint, Response, jsonify, request

from interview_app.coaching.judgement import Delivery, Rubric
from interview_app.history.repository import History, HistoryUnavailable
from interview_app.problems import (
    ATTEMPT_NOT_FOUND,
    AUDIO_TYPE,
    KEPT_AUDIO_FULL,
    RECORDING_NOT_FOUND,
    SERVER_AUDIO_FULL,
    Refused,
    invalid,
)
from interview_app.speech.audio import TYPES as AUDIO_TYPES
from interview_app.web import identity
from interview_app.web.services import services
from interview_app.web.shared import call, checked_audio, client

history_bp = Blueprint("history", __name__)
log = logging.getLogger(__name__)


def _history() -> History:
    return services().history_or_off()


@history_bp.get("/api/attempts")
def list_attempts() -> Response:
    """This identity's attempts, newest first: `?limit=` (1-100, default 20), `?before=`."""
    raw = request.args.get("limit", "20")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise invalid("invalid_limit", "'limit' must be a whole number from 1 to 100.")
    before = request.args.get("before") or None
    history, who = _history(), identity.current()
    attempts, cursor = call(lambda: history.page(who, int(raw), before))
    return jsonify({"attempts": attempts, "next": cursor})


@history_bp.get("/api/attempts/<attempt_id>")
def get_attempt(attempt_id: str) -> Response:
    """Everything kept about one attempt, and this identity's previous one at its question."""
    history, who = _history(), identity.current()
    found = call(lambda: history.get(who, attempt_id))
    if found is None:
        raise Refused(ATTEMPT_NOT_FOUND)
    return jsonify(found)


@history_bp.delete("/api/attempts/<attempt_id>")
def delete_attempt(attempt_id: str) -> Response:
    """Delete one attempt."""
    history, who = _history(), identity.current()
    if not call(lambda: history.delete(who, attempt_id)):
        raise Refused(ATTEMPT_NOT_FOUND)
    return Response(status=204)


@history_bp.put("/api/attempts/<attempt_id>/recording")
def keep_recording(attempt_id: str) -> Response:
    """Keep the audio of one attempt: only when its candidate asks, for that attempt, and
    only audio that decodes as a transcription's upload does, within the kept-audio bounds."""
    found = services()
    settings = found.settings
    kind = (request.mimetype or "").lower()
    if kind not in AUDIO_TYPES:
        raise Refused(AUDIO_TYPE)
    # Counted as a stream of its client (decoding 25 MB is work), before the body is read.
    ticket = found.quotas.admit(client())
    try:
        data = found.body.read(
            request, client(), settings.max_audio_bytes, settings.audio_body_timeout_seconds
        )
        if not data:
            raise invalid("missing_body", "Send the recording as the body.")
        checked_audio(data)  # decoded as a transcription's upload: type, length, readable
    finally:
        ticket.release()
    history, who = _history(), identity.current()
    kept = call(
        lambda: history.keep_recording(
            who,
            attempt_id,
            kind,
            data,
            per_identity=settings.max_kept_audio_bytes_per_identity,
            in_all=settings.max_kept_audio_bytes,
        )
    )
    if kept != "kept":
        raise Refused(_NOT_KEPT[kept])
    return Response(status=204)


_NOT_KEPT = {"no_attempt": ATTEMPT_NOT_FOUND, "identity_full": KEPT_AUDIO_FULL,
             "server_full": SERVER_AUDIO_FULL}  # fmt: skip
_PIECE = 256 * 1024  # read a kept recording this much at a time, never whole


@history_bp.get("/api/attempts/<attempt_id>/recording")
def get_recording(attempt_id: str) -> Response:
    """The kept audio of one attempt, streamed a piece at a time."""
    history, who = _history(), identity.current()
    found = call(lambda: history.recording(who, attempt_id))
    if found is None:
        raise Refused(RECORDING_NOT_FOUND)
    kind, size = found

    def pieces() -> Iterator[bytes]:
        offset = 0
        while offset < size:
            try:
                piece = history.recording_piece(who, attempt_id, offset, _PIECE)
            except HistoryUnavailable:
                log.warning("recording not sent whole: database failed")
                return
            if not piece:
                return  # deleted while it was read: the client sees a short body
            offset += len(piece)
            yield piece

    return Response(
        pieces(),
        mimetype=kind,
        headers={"Cache-Control": "private, no-store", "Content-Length": str(size)},
    )


@history_bp.delete("/api/attempts")
def delete_all() -> Response:
    """Delete everything kept for this identity: every attempt and every mock interview."""
    history, who = _history(), identity.current()
    call(lambda: history.delete_all(who))
    return Response(status=204)


def _markdown(attempts: list[dict[str, Any]]) -> str:
    out = ["# Practice history · 연습 기록", ""]
    for a in attempts:
        score = f" · {a['score']}/5" if a.get("score") else ""
        out += [f"## {a['created_at'][:16].replace('T', ' ')} · {a['kind']}{score}", ""]
        out += [f"**Question · 질문**: {a['question']}", ""]
        if a.get("answer"):
            out += ["**Answer · 답변**:", "", a["answer"], ""]
        rubric = Rubric.stored(a.get("analysis"))
        if rubric and rubric.verdict:
            out += [f"**Verdict · 평가**: {rubric.verdict}", ""]
        spoken = Delivery.of(a.get("delivery"))
        if spoken:
            unit = "syllables/min" if spoken.unit == "syllables_per_minute" else "words/min"
            said = f"{spoken.rate} {unit} ({spoken.pace}), {spoken.filler_words} fillers"
            out += [f"**Delivery · 말하기**: {said}, {spoken.long_pauses} long pauses", ""]
        out += [a["text"], "", "---", ""]
    return "\n".join(out)


@history_bp.get("/api/attempts/export")
def export() -> Response:
    """A download of all this identity's attempts: `?format=json` (default) or `md`."""
    form = request.args.get("format", "json")
    if form not in ("json", "md"):
        raise invalid("invalid_format", "'format' must be 'json' or 'md'.")
    history, who = _history(), identity.current()
    attempts = call(lambda: history.export(who))
    if form == "md":
        body, mimetype = _markdown(attempts).encode(), "text/markdown"  # Flask adds the charset
    else:
        body = orjson.dumps({"attempts": attempts}, option=orjson.OPT_INDENT_2)
        mimetype = "application/json"
    name = f"interview-practice.{form}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@history_bp.get("/api/review")
def review() -> Response:
    """What to practise next: due questions with their reason, the next due time, weak parts."""
    history, who = _history(), identity.current()
    return jsonify(call(lambda: history.review(who)))


@history_bp.get("/api/progress")
def progress() -> Response:
    """Per week and category: attempts, mean score, the STAR part most often missing."""
    history, who = _history(), identity.current()
    return jsonify(call(lambda: history.progress(who)))
