"""The mock interview's HTTP face: parse, call `interviews/service.py`, answer.

The flow itself (typed state, transitions) is `coaching/flow.py`; running it
(saving each transition, starting the interviewer's streams) is the service's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeSerializer

from interview_app.coaching.delivery import parse as parse_delivery
from interview_app.coaching.flow import Setup, State, Status
from interview_app.coaching.interview import FOCUSES, REASONS
from interview_app.coaching.questions import BANK
from interview_app.coaching.request import Language, detect_language
from interview_app.interviews.service import public_next
from interview_app.problems import SHARE_NOT_FOUND, Problem, Refused, invalid
from interview_app.settings import Settings
from interview_app.web import identity, urls
from interview_app.web.services import services
from interview_app.web.shared import call, caller, json_body

interviews_bp = Blueprint("interviews", __name__)

CATEGORIES = [category for category, _, _ in BANK]


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


def _categories(data: dict[str, Any]) -> list[str] | None:
    categories = data.get("categories")
    if categories is None:
        return None
    if not isinstance(categories, list) or not all(
        isinstance(c, str) and c in CATEGORIES for c in categories
    ):
        raise invalid("invalid_field", f"'categories' must be a list of: {', '.join(CATEGORIES)}.")
    return categories


def _setup(data: dict[str, Any], settings: Settings) -> Setup:
    role = _text(data, "role", settings.max_role_chars)
    posting = _text(data, "job_posting", settings.max_posting_chars)
    resume = _text(data, "resume", settings.max_resume_chars)
    language = data.get("language") or detect_language(role, posting, resume)
    if language not in ("ko", "en"):
        raise invalid("invalid_field", "'language' must be 'ko' or 'en'.")
    follow_ups = data.get("follow_ups", True)
    if not isinstance(follow_ups, bool):
        raise invalid("invalid_field", "'follow_ups' must be true or false.")
    interrupt = data.get("interrupt", True)
    if not isinstance(interrupt, bool):
        raise invalid("invalid_field", "'interrupt' must be true or false.")
    focus = data.get("focus")
    if focus is not None and focus not in FOCUSES:
        raise invalid("invalid_field", f"'focus' must be one of: {', '.join(FOCUSES)}.")
    return Setup(
        language=language,
        role=role,
        job_posting=posting,
        resume=resume,
        questions=_integer(data, "questions", 5, 1, 10),
        categories=_categories(data),
        follow_ups=follow_ups,
        answer_seconds=_integer(data, "answer_seconds", 120, 30, 600),
        focus=focus,
        interrupt=interrupt,
    )


@interviews_bp.post("/api/interviews")
def create() -> tuple[Response, int, dict[str, str]]:
    """Start a mock interview; its first question streams at once."""
    found = services()
    setup = _setup(json_body(found.settings.interview_body_bytes), found.settings)
    interviews, who = found.interviews_or_off(), caller()
    interview_id, state = call(lambda: interviews.create(who, setup))
    url = urls.at(f"/api/interviews/{interview_id}")
    body = {"id": interview_id, "url": url, "next": public_next(state, who.root)}
    return jsonify(body), 201, {"Location": url}


def _public(interview_id: str, status: Status, state: State) -> dict[str, Any]:
    root = urls.base()

    def link(path: str | None) -> str | None:
        return None if path is None else root + path

    turns = [
        {
            "kind": t.kind,
            "question": t.text,
            "reason": t.why,
            "stream": link(t.stream),
            "answer": t.answer,
            "seconds": t.seconds,
            "over_time": t.over_time,
            "interrupted": t.interrupted,
            "feedback": link(t.feedback),
            "analysis": t.analysis,
            "attempt_id": t.attempt_id,
            "aim": t.aim,
        }
        for t in state.turns
    ]
    setup = state.setup
    return {
        "id": interview_id,
        "status": status,
        "setup": {
            "language": setup.language,
            "role": setup.role,
            "questions": setup.questions,
            "categories": setup.categories,
            "follow_ups": setup.follow_ups,
            "answer_seconds": setup.answer_seconds,
            "focus": setup.focus,
            "interrupt": setup.interrupt,
        },
        "turns": turns,
        "current": public_next(state, root),
        "report": state.report,
    }


@interviews_bp.get("/api/interviews/<interview_id>")
def read(interview_id: str) -> Response:
    """The whole state: turns, answers, rubrics, the current stream, the status."""
    interviews, who = services().interviews_or_off(), identity.current()
    status, state = call(lambda: interviews.get(who, interview_id))
    return jsonify(_public(interview_id, status, state))


def _turn(data: dict[str, Any]) -> int:
    turn = data.get("turn")
    if turn is None:
        raise invalid("missing_field", "'turn' is required: the index of the turn answered.")
    if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
        raise invalid("invalid_field", "'turn' must be the index of a turn (0 or more).")
    return turn


@interviews_bp.post("/api/interviews/<interview_id>/answers")
def answer(interview_id: str) -> tuple[Response, int]:
    """Answer the turn awaiting an answer; the feedback streams, its `done` names what is next."""
    found = services()
    data = json_body()
    text = _text(data, "answer", found.settings.max_answer_chars)
    if text is None:
        raise invalid("missing_field", "'answer' is required.")
    seconds = data.get("seconds")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
    ):
        raise invalid("invalid_field", "'seconds' must be a number of seconds.")
    turn = _turn(data)
    interrupted = data.get("interrupted")
    if interrupted is not None and interrupted not in REASONS:
        raise invalid("invalid_field", f"'interrupted' must be one of: {', '.join(REASONS)}.")
    delivery = None
    interviews, who = found.interviews_or_off(), caller()
    if data.get("delivery") is not None:
        # Read in the interview's language, not one guessed from the text: a Korean
        # answer in Latin script was measured in words a minute and called fast.
        _, state = call(lambda: interviews.get(who.identity, interview_id))
        try:
            delivery = parse_delivery(data["delivery"], state.setup.language)
        except ValueError as exc:
            raise invalid("invalid_field", str(exc)) from None
    feedback = call(
        lambda: interviews.answer(who, interview_id, turn, text, seconds, delivery, interrupted)
    )
    return jsonify({"feedback": urls.at(feedback, who.root)}), 201


@interviews_bp.delete("/api/interviews/<interview_id>")
def delete(interview_id: str) -> Response:
    """Delete an interview: its answers, resume, job posting, report and attempts."""
    interviews, who = services().interviews_or_off(), identity.current()
    call(lambda: interviews.delete(who, interview_id))
    return Response(status=204)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(services().secret, salt="share")


@interviews_bp.post("/api/interviews/<interview_id>/share")
def share(interview_id: str) -> tuple[Response, int]:
    """A signed, unguessable, read-only link to the finished interview's report."""
    found = services()
    interviews, who = found.interviews_or_off(), identity.current()
    made = call(lambda: interviews.share(who, interview_id, found.settings.share_days))
    share_id, expires, language = made
    # The report's language rides in the signed token: a revoked link has no row left to
    # say in which language to tell its holder so.
    url = urls.at(f"/shared/{_signer().dumps([share_id, language])}")
    return jsonify({"url": url, "expires_at": expires.isoformat()}), 201


@interviews_bp.delete("/api/interviews/<interview_id>/share")
def unshare(interview_id: str) -> Response:
    """Revoke every link to this interview's report: 404 for everyone after."""
    interviews, who = services().interviews_or_off(), identity.current()
    call(lambda: interviews.unshare(who, interview_id))
    return Response(status=204)


def _shared_token(token: str) -> tuple[str, Language | None]:
    """A link's share id and its report's language (None in links made before it rode in
    the token); BadSignature for anything we did not sign."""
    data = _signer().loads(token)
    if isinstance(data, list) and len(data) == 2 and data[1] in ("en", "ko"):
        return str(data[0]), data[1]
    if isinstance(data, str):
        return data, None
    raise BadSignature("not a share")


_GONE = {
    "share_not_found": {
        "en": ("This link no longer works", "The person who shared this report has revoked "
               "the link, or deleted the interview. Ask them for a new link."),
        "ko": ("더 이상 열 수 없는 링크입니다", "보고서를 공유한 사람이 링크를 취소했거나 "
               "면접 기록을 삭제했습니다. 새 링크를 요청하세요."),
    },
    "share_expired": {
        "en": ("This link has expired", "Shared reports can be opened for a limited time. "
               "Ask the person who shared it for a new link."),
        "ko": ("공유 기간이 끝난 링크입니다", "공유된 보고서는 정해진 기간 동안만 열 수 있습니다. "
               "공유한 사람에게 새 링크를 요청하세요."),
    },
}  # fmt: skip


def _gone(problem: Problem, language: Language) -> Response:
    """A revoked, expired or unknown link as a page in the report's language (the API's
    JSON error was shown raw to whoever opened the link)."""
    title, text = _GONE[problem.code][language]
    page = render_template("interview_app/shared_gone.html", language=language,
                           title=title, text=text, code=problem.code)  # fmt: skip
    headers = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "private, no-store",
               "Referrer-Policy": "no-referrer"}  # fmt: skip
    return Response(page, status=problem.status, mimetype="text/html", headers=headers)


@interviews_bp.get("/shared/<token>")
def shared_report(token: str) -> Response:
    """The report behind a link, for anyone holding it: no cookie, no identity, noindex."""
    asked: Language = "ko" if request.accept_languages.best_match(["en", "ko"]) == "ko" else "en"
    try:
        share_id, language = _shared_token(token)
    except BadSignature:
        return _gone(SHARE_NOT_FOUND, asked)
    interviews = services().interviews_or_off()
    try:
        state = call(lambda: interviews.shared(share_id, datetime.now(UTC)))
    except Refused as refused:
        if refused.problem.code not in _GONE:
            raise
        return _gone(refused.problem, language or asked)
    page = render_template(
        "interview_app/report.html", report=state.report,
        language=state.setup.language, role=state.setup.role, back=None, shared=True,
    )  # fmt: skip
    headers = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "private, no-store",
               "Referrer-Policy": "no-referrer"}  # fmt: skip
    return Response(page, mimetype="text/html", headers=headers)


@interviews_bp.get("/api/interviews/<interview_id>/report.md")
def report_markdown(interview_id: str) -> Response:
    """The session report as Markdown, once the interview has finished."""
    interviews, who = services().interviews_or_off(), identity.current()
    state = call(lambda: interviews.finished(who, interview_id))
    return Response(
        state.report_md,
        mimetype="text/markdown",
        headers={"Content-Disposition": 'attachment; filename="interview-report.md"'},
    )


@interviews_bp.get("/interviews/<interview_id>/report")
def report_page(interview_id: str) -> str:
    """The report as a print-ready page ("Save as PDF" in the browser makes the PDF)."""
    found = services()
    interviews, who = found.interviews_or_off(), identity.current()
    state = call(lambda: interviews.finished(who, interview_id))
    back = urls.at("/") if found.page else None
    return render_template(
        "interview_app/report.html", report=state.report,
        language=state.setup.language, role=state.setup.role, back=back,
    )  # fmt: skip
