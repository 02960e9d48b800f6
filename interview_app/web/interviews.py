"""Mock interviews: an interviewer that asks, follows up, keeps time, and writes a report.

Every interviewer utterance (question, follow-up, report) is a stored stream like
any other: it streams token by token and resumes with `Last-Event-ID`. A session
lives in the database (`history/interviews.py`), so a reload finds it exactly
where it was, and only the identity that created it can read or answer it (404
otherwise). The next turn is decided when an answer's feedback ends, from its
rubric, and its stream is named in that feedback's `done` (`next`).

Background work (an utterance ending, a feedback deciding the next turn) runs in
producer greenlets outside any request: it gets a `_Session` with everything it
needs, captured while the request was live.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from interview_app.coaching import interview
from interview_app.coaching.questions import BANK
from interview_app.coaching.request import CoachingRequest, Language, detect_language
from interview_app.history.interviews import Interviews
from interview_app.history.repository import HistoryUnavailable
from interview_app.llm.offline import OfflineCompletion
from interview_app.llm.port import LLM, Completion, UpstreamError
from interview_app.problems import STORE_DOWN, Problem, Refused, invalid
from interview_app.settings import Settings
from interview_app.streaming import relay
from interview_app.streaming.store import Store, StoreUnavailable, Stream
from interview_app.web import identity, urls
from interview_app.web.api import json_body, open_generation
from interview_app.web.history import HISTORY_DOWN, database_service

interviews_bp = Blueprint("interviews", __name__)
log = logging.getLogger(__name__)

NOT_FOUND = Problem("interview_not_found", "No such interview.", 404, False)
FINISHED = Problem("interview_finished", "This interview has finished.", 409, False)
BUSY = Problem(
    "interview_busy", "Your last answer is still being coached. Wait for it.", 409, True, 2
)
ASKING = Problem(
    "interview_asking", "The interviewer is still asking. Answer when it is done.", 409, True, 1
)
NOT_READY = Problem("report_not_ready", "The report is written when the interview ends.", 409)
CATEGORIES = [category for category, _, _ in BANK]
UTTERANCE_TOKENS = 300


@dataclass
class _Session:
    """What background work needs about one interview, captured during a request."""

    interview_id: str
    identity: str
    interviews: Interviews
    store: Store
    llm: LLM
    settings: Settings
    root: str  # where we are mounted (`urls.base()`), for URLs made after the request


def _url(stream_id: str) -> str:
    """A stream's path below the mount, as the interview's state keeps it."""
    return f"/api/streams/{stream_id}"


def _absolute(path: str | None, root: str) -> str | None:
    """A stored path as a URL the client can open (None stays None)."""
    return None if path is None else urls.at(path, root)


def _next(step: dict[str, Any], root: str) -> dict[str, Any]:
    """What comes next, with its stream as a URL the client can open."""
    return {**step, "stream": _absolute(step.get("stream"), root)}


def _repo() -> Interviews:
    return database_service(Interviews, "interview_app.interviews")


def _session(interview_id: str) -> _Session:
    ext = current_app.extensions
    return _Session(
        interview_id,
        identity.current(),
        _repo(),
        ext["interview_app.store"],
        ext["interview_app.llm"],
        ext["interview_app.settings"],
        urls.base(),
    )


def _conversation(state: dict[str, Any]) -> list[tuple[str, str]]:
    said: list[tuple[str, str]] = []
    for turn in state["turns"]:
        if turn.get("text"):
            said.append(("interviewer", turn["text"]))
        if turn.get("answer"):
            said.append(("candidate", turn["answer"]))
    return said


def _speak(s: _Session, state: dict[str, Any], position: int, hint: str, stream: Stream) -> None:
    """Generate the interviewer's utterance `position` into `stream` (already in the state).

    Called once the state that names the stream is saved: the utterance may end (and
    record its text) before this function returns.
    """
    setup = state["setup"]
    turn = state["turns"][position]
    messages = interview.prompts(
        language=setup["language"],
        role=setup.get("role"),
        posting=setup.get("job_posting"),
        resume=setup.get("resume"),
        history=_conversation({"turns": state["turns"][:position]}),
        task="follow_up" if turn["kind"] == "follow_up" else "question",
        n=turn["index"] + 1,
        total=len(state["questions"]),
        hint=turn.get("why") or hint,
        budget=s.settings.interview_context_tokens,
    )
    try:
        completion = s.llm.converse(messages, UTTERANCE_TOKENS, turn.get("text") or hint)
    except UpstreamError as exc:
        stream.finish("error", exc.problem.event())  # the page shows it and may retry
        return

    def heard(outcome: str, summary: Any, text: str, ttft: Any, duration: float) -> dict[str, Any]:
        def edit(status: str, st: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            st["turns"][position]["text"] = text or st["turns"][position].get("text")
            return ("awaiting_answer" if status == "asking" else status), st

        try:
            s.interviews.change(s.identity, s.interview_id, edit)
        except HistoryUnavailable:
            log.warning("interview state not saved after an utterance")
        return {}

    generation = relay.Generation(completion, lambda _: None, time.monotonic(), heard)
    relay.start(generation, stream, None)


class _Prefixed:
    """A completion whose text begins with a note of ours (the answer ran over time)."""

    def __init__(self, inner: Completion, note: str) -> None:
        self._inner = inner
        self._note = note
        self.idle_ticks = inner.idle_ticks

    def texts(self, idle: float | None = None) -> Iterator[str]:
        yield self._note
        yield from self._inner.texts(idle)

    def close(self) -> None:
        self._inner.close()

    def summary(self) -> dict[str, Any]:
        return self._inner.summary()


def _report(s: _Session, stream: Stream, state: dict[str, Any]) -> None:
    """Stream the report's Markdown; its `done` carries the structured report.

    The rules' report is saved with the finished state at once. With a model, the model
    writes it (structured output) in a thread of its own, replacing the rules' when it
    fits; the stream starts when it is settled (its readers get pings meanwhile).
    """

    def tell(report: dict[str, Any], markdown: str) -> None:
        speed = s.settings.offline_tokens_per_second
        completion = OfflineCompletion(markdown, {"report": report}, speed)
        relay.start(relay.Generation(completion, lambda _: None, time.monotonic()), stream, None)

    if s.llm.name == "offline":
        tell(state["report"], state["report_md"])
        return

    def write() -> None:
        setup = state["setup"]
        messages = interview.report_messages(state["turns"], setup["language"], setup["role"])
        reply = s.llm.structured(messages, "interview_report", interview.REPORT_SCHEMA, 1500)
        judged = interview.report_from_model(reply, setup["language"])
        if judged is None:
            log.warning("model report not used: the rules' report stands")
            tell(state["report"], state["report_md"])
            return
        report, markdown = judged

        def keep(status: str, st: dict[str, Any]) -> tuple[str, dict[str, Any]]:
            st.update(report=report, report_md=markdown)
            return status, st

        try:
            s.interviews.change(s.identity, s.interview_id, keep)
        except HistoryUnavailable:
            log.warning("the model's report was not saved; the rules' report stands")
        tell(report, markdown)

    threading.Thread(target=write, daemon=True).start()


def _advance(s: _Session, analysis: dict[str, Any] | None) -> dict[str, Any]:
    """After an answer's feedback: the follow-up, the next question, or the report."""
    stream = s.store.create()
    url = _url(stream.id)
    decided: dict[str, Any] = {}

    def edit(status: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        decided.clear()
        turns = state["turns"]
        last = turns[-1]
        last["analysis"] = analysis
        language: Language = state["setup"]["language"]
        follow = (
            interview.follow_up(analysis, language)
            if state["setup"]["follow_ups"] and last["kind"] == "question"
            else None
        )
        offline = s.llm.name == "offline"
        if follow is not None:
            turn = {
                "kind": "follow_up",
                "index": last["index"],
                "reason": follow.reason,
                "why": follow.why,
                "text": follow.question if offline else None,
                "stream": url,
            }
            hint = follow.question
        elif last["index"] + 1 < len(state["questions"]):
            index = last["index"] + 1
            hint = state["questions"][index]
            turn = {"kind": "question", "index": index, "text": hint if offline else None}
            turn["stream"] = url
        else:
            data, markdown = interview.report(turns, language)
            state.update(report=data, report_md=markdown, current={"kind": "report", "stream": url})
            decided.update(next=dict(state["current"]), report=True)
            return "finished", state
        turns.append(turn)
        state["current"] = {"kind": turn["kind"], "stream": url}
        decided.update(next=dict(state["current"]), hint=hint, position=len(turns) - 1)
        if turn["kind"] == "follow_up":
            decided["next"]["reason"] = turn["why"]
        return "asking", state

    changed = s.interviews.change(s.identity, s.interview_id, edit)
    if changed is None:
        stream.finish("error", NOT_FOUND.event())
        return {}
    state = changed[1]
    if decided.get("report"):
        _report(s, stream, state)
    else:
        _speak(s, state, decided["position"], decided["hint"], stream)
    return _next(decided["next"], s.root)


def _text(data: dict[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("invalid_field", f"'{name}' must be a string.")
    if len(value) > limit:
        raise invalid("too_long", f"'{name}' is longer than {limit} characters.")
    return value.strip() or None


def _integer(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid("invalid_field", f"'{name}' must be a whole number from {low} to {high}.")
    return value


def _setup(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    role = _text(data, "role", settings.max_role_chars)
    posting = _text(data, "job_posting", settings.max_posting_chars)
    resume = _text(data, "resume", settings.max_resume_chars)
    language = data.get("language") or detect_language(role, posting, resume)
    if language not in ("ko", "en"):
        raise invalid("invalid_field", "'language' must be 'ko' or 'en'.")
    categories = data.get("categories")
    if categories is not None and (
        not isinstance(categories, list) or not set(categories) <= set(CATEGORIES)
    ):
        raise invalid("invalid_field", f"'categories' must be a list of: {', '.join(CATEGORIES)}.")
    follow_ups = data.get("follow_ups", True)
    if not isinstance(follow_ups, bool):
        raise invalid("invalid_field", "'follow_ups' must be true or false.")
    return {
        "language": language,
        "role": role,
        "job_posting": posting,
        "resume": resume,
        "questions": _integer(data, "questions", 5, 1, 10),
        "categories": categories,
        "follow_ups": follow_ups,
        "answer_seconds": _integer(data, "answer_seconds", 120, 30, 600),
    }


def _call(work: Any) -> Any:
    try:
        return work()
    except HistoryUnavailable:
        raise Refused(HISTORY_DOWN) from None
    except StoreUnavailable:
        raise Refused(STORE_DOWN) from None
    except UpstreamError as exc:
        raise Refused(exc.problem, retry_after=exc.retry_after) from None


@interviews_bp.post("/api/interviews")
def create() -> tuple[Response, int, dict[str, str]]:
    """Start a mock interview; its first question streams at once."""
    settings: Settings = current_app.extensions["interview_app.settings"]
    setup = _setup(json_body(settings.interview_body_bytes), settings)
    repo, who = _repo(), identity.current()
    questions = interview.choose_questions(
        setup["language"], setup["role"], setup["job_posting"], setup["categories"],
        setup["questions"],
    )  # fmt: skip
    offline = current_app.extensions["interview_app.llm"].name == "offline"
    first = {"kind": "question", "index": 0, "text": questions[0] if offline else None}
    state: dict[str, Any] = {"setup": setup, "questions": questions, "turns": [first]}
    store: Store = current_app.extensions["interview_app.store"]
    stream = _call(store.create)
    first["stream"] = _url(stream.id)
    state["current"] = {"kind": "question", "stream": first["stream"]}
    interview_id = _call(lambda: repo.create(who, "asking", state))
    session = _session(interview_id)
    _speak(session, state, 0, questions[0], stream)
    url = urls.at(f"/api/interviews/{interview_id}")
    body = {"id": interview_id, "url": url, "next": _next(state["current"], session.root)}
    return jsonify(body), 201, {"Location": url}


def _public(interview_id: str, status: str, state: dict[str, Any]) -> dict[str, Any]:
    root = urls.base()
    turns = [
        {
            "kind": t["kind"],
            "question": t.get("text"),
            "reason": t.get("why"),
            "stream": _absolute(t.get("stream"), root),
            "answer": t.get("answer"),
            "seconds": t.get("seconds"),
            "over_time": t.get("over_time", False),
            "feedback": _absolute(t.get("feedback"), root),
            "analysis": t.get("analysis"),
            "attempt_id": t.get("attempt_id"),
        }
        for t in state["turns"]
    ]
    return {
        "id": interview_id,
        "status": status,
        "setup": {k: v for k, v in state["setup"].items() if k not in ("job_posting", "resume")},
        "turns": turns,
        "current": _next(state["current"], root) if state.get("current") else None,
        "report": state.get("report"),
    }


def _load(interview_id: str) -> tuple[str, dict[str, Any]]:
    repo, who = _repo(), identity.current()
    found = _call(lambda: repo.get(who, interview_id))
    if found is None:
        raise Refused(NOT_FOUND)
    return found[1], found[2]


@interviews_bp.get("/api/interviews/<interview_id>")
def read(interview_id: str) -> Response:
    """The whole state: turns, answers, rubrics, the current stream, the status."""
    status, state = _load(interview_id)
    return jsonify(_public(interview_id, status, state))


@interviews_bp.post("/api/interviews/<interview_id>/answers")
def answer(interview_id: str) -> tuple[Response, int]:
    """Answer the current question; the feedback streams, and its `done` names what is next."""
    settings: Settings = current_app.extensions["interview_app.settings"]
    data = json_body()
    text = _text(data, "answer", settings.max_answer_chars)
    if text is None:
        raise invalid("missing_field", "'answer' is required.")
    seconds = data.get("seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
    ):
        raise invalid("invalid_field", "'seconds' must be a number of seconds.")
    s = _session(interview_id)
    taken: dict[str, Any] = {}

    def take(status: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        taken["status"] = status
        if status != "awaiting_answer":
            return None
        turn = state["turns"][-1]
        limit = state["setup"]["answer_seconds"]
        turn.update(answer=text, seconds=seconds, over_time=bool(seconds and seconds > limit))
        taken.update(state=state, turn=dict(turn))
        return "coaching", state

    if _call(lambda: s.interviews.change(s.identity, interview_id, take)) is None:
        problems = {"finished": FINISHED, "coaching": BUSY, "asking": ASKING}
        raise Refused(problems.get(taken.get("status", ""), NOT_FOUND))
    state, turn = taken["state"], taken["turn"]
    setup = state["setup"]
    req = CoachingRequest("feedback", turn["text"] or "", text, setup["language"], setup["role"])

    def then(outcome: str, summary: Any, _text: str, ttft: Any, duration: float) -> dict[str, Any]:
        if outcome != "done":
            # The feedback failed: the same question may be answered again.
            def back(status: str, st: dict[str, Any]) -> tuple[str, dict[str, Any]]:
                return "awaiting_answer", st

            s.interviews.change(s.identity, interview_id, back)
            return {}
        return {"next": _advance(s, (summary or {}).get("analysis"))}

    def open_feedback() -> Any:
        return open_generation(req, s.store.create, interview_id=interview_id, then=then)

    try:
        opened = _call(open_feedback)
    except Refused:
        s.interviews.change(s.identity, interview_id, lambda st, x: ("awaiting_answer", x))
        raise
    generation, stream = opened.generation, opened.stream
    assert stream is not None
    if turn.get("over_time") and seconds is not None:
        limit = setup["answer_seconds"]
        note = (
            f"> ⏱ You took {round(seconds)} s; the limit was {limit} s.\n\n"
            if setup["language"] == "en"
            else f"> ⏱ {round(seconds)}초가 걸렸습니다. 제한 시간은 {limit}초였습니다.\n\n"
        )
        generation.completion = _Prefixed(generation.completion, note)
    feedback = _url(stream.id)

    def mark(status: str, st: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        st["turns"][-1]["feedback"] = feedback
        st["current"] = {"kind": "feedback", "stream": feedback}
        return status, st

    _call(lambda: s.interviews.change(s.identity, interview_id, mark))
    opened.ticket.stream = stream
    relay.start(generation, stream, None)
    return jsonify({"feedback": urls.at(feedback, s.root)}), 201


def _finished(interview_id: str) -> dict[str, Any]:
    status, state = _load(interview_id)
    if status != "finished":
        raise Refused(NOT_READY)
    return state


@interviews_bp.get("/api/interviews/<interview_id>/report.md")
def report_markdown(interview_id: str) -> Response:
    """The session report as Markdown, once the interview has finished."""
    state = _finished(interview_id)
    return Response(
        state["report_md"],
        mimetype="text/markdown",
        headers={"Content-Disposition": 'attachment; filename="interview-report.md"'},
    )


@interviews_bp.get("/interviews/<interview_id>/report")
def report_page(interview_id: str) -> str:
    """The report as a print-ready page ("Save as PDF" in the browser makes the PDF)."""
    state = _finished(interview_id)
    back = urls.at("/") if current_app.extensions["interview_app"].page else None
    return render_template(
        "interview_app/report.html", report=state["report"],
        language=state["setup"]["language"], role=state["setup"].get("role"), back=back,
    )  # fmt: skip
