"""The history API: a candidate's own attempts, listed, opened, compared, exported, deleted.

Every call works on the caller's identity only (the repository filters by it);
another identity's attempt id answers 404, never 403, so ids leak nothing. The
database down or slow answers 503 with `Retry-After`; streams are never affected.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from flask import Blueprint, Response, current_app, jsonify, request

from interview_app.history.repository import History, HistoryUnavailable
from interview_app.problems import Problem, Refused, invalid
from interview_app.web import identity

T = TypeVar("T")

history_bp = Blueprint("history", __name__)

HISTORY_DOWN = Problem(
    "history_unavailable", "Your practice history is unavailable right now.", 503, True, 5
)
HISTORY_OFF = Problem("history_off", "Practice history is turned off on this server.", 404, False)
NOT_FOUND = Problem("attempt_not_found", "No such attempt.", 404, False)


def database_service(kind: type[T], key: str) -> T:
    """The database-backed service under `key` (of type `kind`), or history_off without one."""
    found: T | None = current_app.extensions.get(key)
    if found is None:
        raise Refused(HISTORY_OFF)
    return found


def _history() -> History:
    return database_service(History, "interview_app.history")


def _call(work: Any) -> Any:
    try:
        return work()
    except HistoryUnavailable:
        raise Refused(HISTORY_DOWN) from None


@history_bp.get("/api/attempts")
def list_attempts() -> Response:
    """This identity's attempts, newest first: `?limit=` (1-100, default 20), `?before=`."""
    raw = request.args.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid("invalid_limit", "'limit' must be a whole number from 1 to 100.")
    before = request.args.get("before") or None
    history, who = _history(), identity.current()
    attempts, cursor = _call(lambda: history.page(who, int(raw), before))
    return jsonify({"attempts": attempts, "next": cursor})


@history_bp.get("/api/attempts/<attempt_id>")
def get_attempt(attempt_id: str) -> Response:
    """Everything kept about one attempt, and this identity's previous one at its question."""
    history, who = _history(), identity.current()
    found = _call(lambda: history.get(who, attempt_id))
    if found is None:
        raise Refused(NOT_FOUND)
    return jsonify(found)


@history_bp.delete("/api/attempts/<attempt_id>")
def delete_attempt(attempt_id: str) -> Response:
    """Delete one attempt."""
    history, who = _history(), identity.current()
    if not _call(lambda: history.delete(who, attempt_id)):
        raise Refused(NOT_FOUND)
    return Response(status=204)


@history_bp.delete("/api/attempts")
def delete_all() -> Response:
    """Delete every attempt of this identity."""
    history, who = _history(), identity.current()
    _call(lambda: history.delete_all(who))
    return Response(status=204)


def _markdown(attempts: list[dict[str, Any]]) -> str:
    out = ["# Practice history · 연습 기록", ""]
    for a in attempts:
        score = f" · {a['score']}/5" if a.get("score") else ""
        out += [f"## {a['created_at'][:16].replace('T', ' ')} · {a['kind']}{score}", ""]
        out += [f"**Question · 질문**: {a['question']}", ""]
        if a.get("answer"):
            out += ["**Answer · 답변**:", "", a["answer"], ""]
        verdict = (a.get("analysis") or {}).get("verdict")
        if verdict:
            out += [f"**Verdict · 평가**: {verdict}", ""]
        out += [a["text"], "", "---", ""]
    return "\n".join(out)


@history_bp.get("/api/attempts/export")
def export() -> Response:
    """A download of all this identity's attempts: `?format=json` (default) or `md`."""
    form = request.args.get("format", "json")
    if form not in ("json", "md"):
        raise invalid("invalid_format", "'format' must be 'json' or 'md'.")
    history, who = _history(), identity.current()
    attempts = _call(lambda: history.export(who))
    if form == "md":
        body, mimetype = _markdown(attempts).encode(), "text/markdown; charset=utf-8"
    else:
        body = orjson.dumps({"attempts": attempts}, option=orjson.OPT_INDENT_2)
        mimetype = "application/json"
    name = f"interview-practice.{form}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@history_bp.get("/api/progress")
def progress() -> Response:
    """Per week and category: attempts, mean score, the STAR part most often missing."""
    history, who = _history(), identity.current()
    return jsonify(_call(lambda: history.progress(who)))
