"""The mock interview's transitions, pure: no server, no database, no stream."""

from __future__ import annotations

from typing import Any

import pytest

from interview_app.coaching import flow
from interview_app.coaching.flow import NotNow, Setup, State

SETUP = Setup("en", "Backend engineer", None, None, 2, None, True, 60)
WEAK = {"star": {"action": False, "result": False}, "first_person": False, "score": 1}
STRONG = {
    "star": {"situation": True, "task": True, "action": True, "result": True},
    "first_person": True,
    "quantified_result": True,
    "conclusion_first": True,
    "behavioural": True,
    "score": 5,
    "verdict": "Strong.",
}


def asked(scripted: bool = True) -> tuple[flow.Status, State]:
    status, state = flow.begin(SETUP, ["Q1?", "Q2?"], "/s/1", scripted=scripted)
    return flow.heard(status, state, 0, "Q1?")


def test_begin_asks_the_first_question() -> None:
    status, state = flow.begin(SETUP, ["Q1?", "Q2?"], "/s/1", scripted=False)
    assert status == "asking" and state.current == flow.Current("question", "/s/1")
    assert state.turns == (flow.Turn("question", 0, "/s/1"),)  # a model has not said it yet
    assert flow.begin(SETUP, ["Q1?"], "/s/1", scripted=True)[1].turns[0].text == "Q1?"


def test_heard_opens_the_turn_for_an_answer_and_keeps_what_was_said() -> None:
    status, state = flow.begin(SETUP, ["Q1?", "Q2?"], "/s/1", scripted=False)
    status, state = flow.heard(status, state, 0, "Tell me about Q1.")
    assert status == "awaiting_answer" and state.turns[0].text == "Tell me about Q1."


def test_an_answer_is_taken_once_and_only_for_the_turn_asked() -> None:
    status, state = asked()
    status, taken = flow.answer(status, state, 0, "My answer", 75, "/s/fb")
    assert status == "coaching" and taken.current == flow.Current("feedback", "/s/fb")
    assert taken.turns[0].answer == "My answer" and taken.turns[0].over_time is True
    with pytest.raises(NotNow) as again:
        flow.answer(status, taken, 0, "Again", 10, "/s/fb2")
    assert again.value.why == "busy"
    with pytest.raises(NotNow) as other:
        flow.answer(status, taken, 1, "Ahead", 10, "/s/fb2")
    assert other.value.why == "stale_turn"


@pytest.mark.parametrize(
    ("status", "turn", "why"),
    [("asking", 0, "asking"), ("finished", 0, "finished"), ("awaiting_answer", 3, "stale_turn")],
)
def test_an_answer_refused_says_why(status: flow.Status, turn: int, why: str) -> None:
    _, state = asked()
    with pytest.raises(NotNow) as refused:
        flow.answer(status, state, turn, "x", None, "/s/fb")
    assert refused.value.why == why


def test_a_failed_feedback_returns_to_the_same_question() -> None:
    status, state = flow.answer(*asked(), 0, "My answer", 10, "/s/fb")
    status, back = flow.feedback_failed(status, state)
    assert status == "awaiting_answer" and back.current == flow.Current("question", "/s/1")
    assert flow.answer(status, back, 0, "Second try", 10, "/s/fb2")[0] == "coaching"


def test_feedback_done_follows_up_then_moves_on_then_reports() -> None:
    status, state = flow.answer(*asked(), 0, "We worked hard.", 10, "/s/fb1")
    status, state, step = flow.feedback_done(status, state, WEAK, "a1", "/s/2", scripted=True)
    assert status == "asking" and step.kind == "follow_up" and step.position == 1
    assert state.turns[0].analysis == WEAK and state.turns[0].attempt_id == "a1"
    assert state.turns[1].reason == "no_action" and state.current.reason == state.turns[1].why
    status, state = flow.heard(status, state, 1, state.turns[1].text or "")

    status, state = flow.answer(status, state, 1, "I fixed it.", 10, "/s/fb2")
    status, state, step = flow.feedback_done(status, state, WEAK, "a2", "/s/3", scripted=True)
    assert step == flow.Next("question", 2, "Q2?")  # one follow-up per question at most
    status, state = flow.heard(status, state, 2, "Q2?")

    status, state = flow.answer(status, state, 2, "Strong answer", 10, "/s/fb3")
    status, state, step = flow.feedback_done(status, state, STRONG, "a3", "/s/4", scripted=True)
    assert status == "finished" and step.kind == "report" and step.position is None
    assert state.report is not None and state.report_md and state.current.kind == "report"
    with pytest.raises(NotNow):
        flow.answer(status, state, 2, "More", 10, "/s/x")


def test_a_report_written_later_replaces_the_rules_one_only_when_finished() -> None:
    status, state = asked()
    with pytest.raises(NotNow) as early:
        flow.report_written(status, state, {"score": 4}, "# Report")
    assert early.value.why == "not_ready"
    done = State(SETUP, ["Q1?"], state.turns, flow.Current("report", "/s/r"), {"score": 2}, "#")
    assert flow.report_written("finished", done, {"score": 4}, "# R")[1].report == {"score": 4}


def test_the_state_round_trips_through_json_in_the_shape_saved_before() -> None:
    status, state = flow.answer(*asked(), 0, "My answer", 10, "/s/fb")
    saved: dict[str, Any] = state.to_json()
    assert set(saved) == {"setup", "questions", "turns", "current"}
    assert saved["current"] == {"kind": "feedback", "stream": "/s/fb"}
    assert State.from_json(saved) == state
    # A row written before typed state (no `current` on an old interview, unknown keys).
    old = {**saved, "turns": [{**saved["turns"][0], "legacy": 1}]}
    del old["current"]
    assert State.from_json(old).current == flow.Current("question", "/s/1")
