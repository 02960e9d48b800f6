"""The coaching of one request, composed once (`coaching/compose.py`): both adapters say
what it composes, and neither decides any of it."""

from __future__ import annotations

import json

import pytest

from interview_app.coaching import compose
from interview_app.coaching.delivery import parse
from interview_app.coaching.request import CoachingRequest
from interview_app.llm.offline import OfflineBackend
from tests.test_delivery import SPOKEN

QUESTION = "Tell me about a time you fixed a problem at work."
ANSWER = ("Last year our checkout failed often. My job was to fix it. I traced the failed "
          "requests and I rewrote the retry logic. Errors fell from 5% to 2%.")  # fmt: skip


def request(spoken: bool, kind: str = "feedback") -> CoachingRequest:
    delivery = parse(SPOKEN, "en") if spoken else None
    answer = ANSWER if kind == "feedback" else None
    return CoachingRequest(kind, QUESTION, answer, "en", None, delivery)  # type: ignore[arg-type]


def test_the_delivery_section_closes_a_spoken_feedback_only() -> None:
    assert compose.closing(request(spoken=False)) == ""
    assert compose.closing(request(spoken=True)).strip().startswith("**How you said it**")
    assert compose.closing(request(spoken=True, kind="answer")) == ""


def test_the_offline_coach_says_what_is_composed() -> None:
    """The offline adapter had written its own delivery section and attached the delivery
    to its rubric its own way; it now recites the composer's text and rubric."""
    for spoken in (False, True):
        text, extra = compose.offline(request(spoken), "rules")
        recited = OfflineBackend(0, "rules").open(request(spoken))
        assert "".join(recited.texts()) == text
        assert recited.summary()["analysis"] == extra["analysis"]
        assert ("delivery" in extra["analysis"]) is spoken
        assert text.endswith(compose.closing(request(spoken)))
    assert compose.offline(request(False), "off")[1] == {}


def test_a_model_rubric_is_taken_only_when_it_fits() -> None:
    fits = {"star": dict.fromkeys(("situation", "task", "action", "result"), True),
            "first_person": True, "quantified_result": True, "behavioural": True,
            "conclusion_first": False, "score": 4, "verdict": "A clear story with a number.",
            "evidence": dict.fromkeys(("situation", "task", "action", "result"))}  # fmt: skip
    found = compose.model_rubric("```json\n" + json.dumps(fits) + "\n```", request(True))
    assert found is not None and found["source"] == "model" and "delivery" in found
    assert found["word_count"] == len(ANSWER.split())  # counts come from the rules
    for bad in (None, "no json here", json.dumps({**fits, "score": 9})):
        assert compose.model_rubric(bad, request(False)) is None
    assert compose.rules_rubric(request(False))["source"] == "rules"


@pytest.mark.parametrize("mode", ["rules", "model", "inline"])
def test_only_inline_asks_for_the_rubric_in_the_feedback(mode: str) -> None:
    chat = compose.chat(request(False), mode)  # type: ignore[arg-type]
    asked = "<<<RUBRIC>>>" in chat[0]["content"]
    assert asked is (mode == "inline")
    assert "<<<RUBRIC>>>" not in compose.chat(request(False, kind="answer"), "inline")[0]["content"]
