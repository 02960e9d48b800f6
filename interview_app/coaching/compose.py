"""The coaching of one request, composed in one place: what a model is asked, what the
offline coach says, the rubric a feedback ends with, and what our own words add.

The LLM adapters (`llm/openai_backend.py`, `llm/offline.py`) carry what is composed here
and decide none of it: they had each decided parts of what a feedback says (one added
the delivery section after the model's text, the other wrote it into its own; each
attached the delivery to its rubric its own way; each chose the rules' reading).

Departure from issue 32 item 2, said here and in the note: the port still opens a
`CoachingRequest` (`LLM.open`) rather than bare chat messages. The adapters' rubric
mechanics (a second request beside the stream, or the rubric read after a marker in
the same stream) need the request to validate the model's rubric against its answer;
the policy they apply is this module's.
"""

from __future__ import annotations

from typing import Any

from interview_app.coaching import rubric
from interview_app.coaching.analysis import analyse, counts
from interview_app.coaching.delivery import section
from interview_app.coaching.feedback import feedback_en, feedback_ko, outline
from interview_app.coaching.prompts import messages
from interview_app.coaching.request import CoachingRequest
from interview_app.settings import RubricMode


def judged(request: CoachingRequest, mode: RubricMode) -> bool:
    """Whether this request's stream ends with a rubric (a feedback on an answer)."""
    return request.kind == "feedback" and request.answer is not None and mode != "off"


def chat(request: CoachingRequest, mode: RubricMode) -> list[dict[str, str]]:
    """The chat a model is sent for `request`: with `RUBRIC=inline`, the feedback's chat
    asking for its rubric after the feedback."""
    asked = messages(request)
    if mode == "inline" and judged(request, mode):
        return rubric.with_feedback(asked, request.language)
    return asked


def inline_ask(request: CoachingRequest) -> str:
    """The inline instructions a model may copy into its text, to be cut from it."""
    return rubric.inline_ask(request.language)


def closing(request: CoachingRequest) -> str:
    """What our own words add after a model's feedback: the measured delivery of a
    spoken answer ("" for a typed one)."""
    if request.kind == "feedback" and request.delivery:
        return section(request.delivery, request.language)
    return ""


def _with_delivery(found: dict[str, Any], request: CoachingRequest) -> dict[str, Any]:
    if request.delivery:
        found["delivery"] = request.delivery
    return found


def rules_rubric(request: CoachingRequest) -> dict[str, Any]:
    """The rules' rubric of a feedback (the `analysis` object of its `done` event)."""
    reading = analyse(request.question, request.answer or "", request.language,
                      request.delivery, request.story)  # fmt: skip
    return _with_delivery(reading.as_dict(), request)


def model_rubric(reply: str | None, request: CoachingRequest) -> dict[str, Any] | None:
    """A model's rubric from its reply, if it fits (`rubric.from_model`); None if not."""
    if reply is None:
        return None
    start, end = reply.find("{"), reply.rfind("}")
    if not 0 <= start < end:  # a model may wrap it in a code fence anyway
        return None
    counted = counts(request.answer or "", request.language, request.delivery)
    found = rubric.from_model(reply[start : end + 1], request, counted)
    return None if found is None else _with_delivery(found, request)


def offline(request: CoachingRequest, mode: RubricMode) -> tuple[str, dict[str, Any]]:
    """What the offline coach says to `request`, and what joins its `done` event: a
    feedback read by the rules (its rubric unless `RUBRIC=off`), else an answer's
    labelled outline."""
    if request.kind != "feedback" or request.answer is None:
        return outline(request), {}
    reading = analyse(request.question, request.answer, request.language, request.delivery,
                      request.story)  # fmt: skip
    text = (feedback_ko if request.language == "ko" else feedback_en)(reading) + closing(request)
    if mode == "off":
        return text, {}
    return text, {"analysis": _with_delivery(reading.as_dict(), request)}
