"""`InlineRubric` (RUBRIC=inline) on its own: the text before the marker is relayed, the
marker and the rubric after it never are, wherever the model's tokens split them. The
whole path through the SDK, the local upstream and gunicorn is in test_rubric.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from interview_app import problems
from interview_app.coaching.rubric import MARKER
from interview_app.llm.port import StreamFailure
from interview_app.llm.rubric_job import InlineRubric

FEEDBACK = "**What landed** a clear result. Say <b> less < more."
RUBRIC = '{"score": 4}'


class Tokens:
    """A completion of our own boundary: these texts, then maybe a failure."""

    idle_ticks = False

    def __init__(self, texts: list[str], fail_after: int | None = None) -> None:
        self._texts = texts
        self._fail_after = fail_after

    def texts(self, idle: float | None = None) -> Iterator[str]:
        for i, text in enumerate(self._texts):
            if i == self._fail_after:
                raise StreamFailure(problems.UPSTREAM_DISCONNECTED)
            yield text

    def close(self) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        return {"finish_reason": "length", "backend": "openai"}


def run(texts: list[str], fail_after: int | None = None) -> tuple[str, dict[str, Any], list]:
    seen: list[tuple[str | None, str]] = []

    def judge(reply: str | None, why: str) -> dict[str, Any]:
        seen.append((reply, why))
        return {"source": "model" if reply else "rules"}

    inline = InlineRubric(Tokens(texts, fail_after), judge)
    shown = "".join(inline.texts())
    return shown, inline.summary(), seen


def pieces(text: str, cut: int) -> list[str]:
    return [text[i : i + cut] for i in range(0, len(text), cut)]


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 13, 100])
def test_the_marker_split_across_tokens_is_never_shown(cut: int) -> None:
    shown, summary, seen = run(pieces(f"{FEEDBACK}\n\n{MARKER}\n{RUBRIC}", cut))
    assert shown == FEEDBACK  # the blank line before the marker is not shown either
    assert seen == [(f"\n{RUBRIC}", "")]
    assert summary["analysis"] == {"source": "model"}
    assert summary["finish_reason"] == "stop"  # the feedback ended; the rubric was cut


def test_a_feedback_with_no_marker_is_shown_whole_and_the_rules_score_it() -> None:
    text = FEEDBACK + "\n\n <<<RUBRI\n"  # ends like the marker's start, but is not it
    shown, summary, seen = run(pieces(text, 4))
    assert shown == text
    assert seen == [(None, "no rubric after the feedback")]
    assert summary["finish_reason"] == "length"


def test_a_stream_cut_after_the_marker_ends_its_feedback_normally() -> None:
    texts = [FEEDBACK, MARKER, '{"sco']
    shown, summary, seen = run([*texts, "re"], fail_after=3)
    assert shown == FEEDBACK
    assert seen == [('{"sco', "cut after the feedback (upstream_disconnected)")]


def test_a_stream_cut_before_the_marker_fails_as_any_stream() -> None:
    with pytest.raises(StreamFailure):
        run([FEEDBACK, "more"], fail_after=1)


@pytest.mark.parametrize("cut", [1, 2, 3, 6])
def test_whitespace_held_back_inside_the_feedback_is_shown_in_its_place(cut: int) -> None:
    text = "**What landed**\n\n- a < b \n\n  **A stronger version** <<< not it\n \n"
    shown, _, _ = run(pieces(text, cut))
    assert shown == text
