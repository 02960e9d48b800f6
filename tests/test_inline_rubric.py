"""`InlineRubric` (RUBRIC=inline) on its own: the text before the marker line is relayed,
the marker and the rubric after it never are, wherever the model's tokens split them; a
marker inside a line, a near miss and a copy of the prompt are never shown; reading
stops when the JSON closes; pings flow while text is hidden. The whole path through the
SDK, the local upstream and gunicorn is in test_rubric.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from interview_app import problems
from interview_app.coaching.rubric import MARKER, inline_ask, inline_instructions
from interview_app.llm.inline_rubric import ECHO, InlineRubric
from interview_app.llm.port import StreamFailure

FEEDBACK = "**What landed** a clear result. Say <b> less < more."
RUBRIC = '{"score": 4}'


class Tokens:
    """A completion of our own boundary: these texts, then maybe a failure."""

    idle_ticks = False

    def __init__(self, texts: list[str], fail_after: int | None = None) -> None:
        self._texts = texts
        self._fail_after = fail_after
        self.read = 0
        self.closed = False
        self.ended = False

    def texts(self, idle: float | None = None) -> Iterator[str]:
        for i, text in enumerate(self._texts):
            if i == self._fail_after:
                raise StreamFailure(problems.UPSTREAM_DISCONNECTED)
            if self.closed:
                return
            self.read += 1
            yield text
        self.ended = True

    def close(self) -> None:
        self.closed = True

    def summary(self) -> dict[str, Any]:
        # The model ran out of tokens, when it was read to its end.
        return {"finish_reason": "length" if self.ended else None, "backend": "openai"}


def run(
    texts: list[str], fail_after: int | None = None, language: str = "en", idle: float | None = None
) -> tuple[str, dict[str, Any], list[tuple[str | None, str]], Tokens]:
    seen: list[tuple[str | None, str]] = []

    def judge(reply: str | None, why: str) -> dict[str, Any]:
        seen.append((reply, why))
        return {"source": "model" if reply else "rules"}

    tokens = Tokens(texts, fail_after)
    inline = InlineRubric(tokens, judge, inline_ask(language))  # type: ignore[arg-type]
    shown = "".join(inline.texts(idle))
    return shown, inline.summary(), seen, tokens


def pieces(text: str, cut: int) -> list[str]:
    return [text[i : i + cut] for i in range(0, len(text), cut)]


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 13, 100])
def test_the_marker_split_across_tokens_is_never_shown(cut: int) -> None:
    shown, summary, seen, tokens = run(pieces(f"{FEEDBACK}\n\n{MARKER}\n{RUBRIC}\nmore", cut))
    assert shown == FEEDBACK  # the blank line before the marker is not shown either
    assert seen == [(RUBRIC, "")]
    assert summary["analysis"] == {"source": "model"}
    # Once the JSON closed nothing more was read, and the upstream was closed.
    assert tokens.closed and not tokens.ended
    assert summary["finish_reason"] == "stop"


def test_a_rubric_cut_by_max_tokens_keeps_the_upstreams_finish_reason() -> None:
    shown, summary, seen, _ = run([FEEDBACK, "\n", MARKER, "\n", '{"score": 4, "ver'])
    assert shown == FEEDBACK
    assert summary["finish_reason"] == "length"  # it used to say "stop"
    assert seen == [('{"score": 4, "ver', "")]


def test_a_marker_inside_a_line_is_not_the_marker_and_is_not_shown() -> None:
    text = "Say what you did first, then <<<RUBRIC>>> the result. Good answer overall."
    shown, _, seen, tokens = run(pieces(text, 3))
    assert shown == "Say what you did first, then  the result. Good answer overall."
    assert seen == [(None, "no rubric after the feedback")]
    assert tokens.ended


def test_a_model_quoting_its_instructions_in_korean_shows_none_of_them() -> None:
    feedback = "결론을 먼저 말한 점이 좋습니다. 결과를 숫자로 말해 보세요."
    quoted = inline_instructions("ko")[2:400]  # "피드백을 다 쓴 뒤 <<<RUBRIC>>> 만 있는 줄을..."
    shown, summary, seen, tokens = run(
        pieces(feedback + " " + quoted + " 그리고 더", 2), language="ko"
    )
    assert shown == feedback
    assert "RUBRIC" not in shown and "피드백을 다 쓴" not in shown
    assert tokens.closed and not tokens.ended  # stopped reading at once
    assert seen == [(None, "a copy of the prompt")]
    assert summary["analysis"] == {"source": "rules"}


def test_a_near_miss_marker_and_the_schema_after_it_are_never_shown() -> None:
    echo = "\n<<<RUBICION>>>\n" + inline_instructions("en")
    shown, _, seen, tokens = run(pieces(FEEDBACK + "\n" + echo, 5))
    assert shown == FEEDBACK
    assert seen == [(None, "a broken marker line")]
    assert tokens.closed


def test_text_after_the_marker_that_is_not_json_stops_the_reading() -> None:
    shown, _, seen, tokens = run([FEEDBACK, "\n", MARKER, "\n", "Sure! Here is", " more " * 50])
    assert shown == FEEDBACK
    assert seen == [("Sure! Here is", "no JSON after the marker")]
    assert tokens.closed and tokens.read == 5


def test_hidden_text_still_lets_the_relay_ping() -> None:
    texts = [FEEDBACK, "\n", MARKER, "\n", *pieces(RUBRIC, 1)]
    inline = InlineRubric(Tokens(texts), lambda r, w: {}, inline_ask("en"))  # type: ignore[arg-type]
    out = list(inline.texts(0.0))  # every hidden piece is past the idle time
    assert out.count("") >= len(RUBRIC) - 1


def test_a_feedback_with_no_marker_is_shown_whole_and_the_rules_score_it() -> None:
    shown, summary, seen, _ = run(pieces(FEEDBACK + "\n\nThat is all.", 4))
    assert shown == FEEDBACK + "\n\nThat is all."
    assert seen == [(None, "no rubric after the feedback")]
    assert summary["finish_reason"] == "length"


def test_a_last_line_that_opens_like_the_marker_is_a_near_miss_and_hidden() -> None:
    shown, _, seen, _ = run(pieces(FEEDBACK + "\n\n<<<RUBRI", 4))
    assert shown == FEEDBACK
    assert seen == [(None, "a broken marker line")]


def test_a_stream_cut_after_the_marker_ends_its_feedback_normally() -> None:
    texts = [FEEDBACK, "\n", MARKER, "\n", '{"sco']
    shown, summary, seen, _ = run([*texts, "re"], fail_after=5)
    assert shown == FEEDBACK
    assert seen == [('{"sco', "cut after the feedback (upstream_disconnected)")]


def test_a_stream_cut_before_the_marker_fails_as_any_stream() -> None:
    with pytest.raises(StreamFailure):
        run([FEEDBACK, "more"], fail_after=1)


@pytest.mark.parametrize("cut", [1, 2, 3, 6])
def test_whitespace_held_back_inside_the_feedback_is_shown_in_its_place(cut: int) -> None:
    text = "**What landed**\n\n- a < b \n\n  **A stronger version** <<< not it\n \n"
    shown, _, _, _ = run(pieces(text, cut))
    assert shown == text


def test_the_echo_window_is_long_enough_not_to_cut_ordinary_coaching() -> None:
    assert ECHO >= 32


@pytest.mark.parametrize("cut", [1, 3, 40])
def test_a_rubric_in_a_code_fence_is_read(cut: int) -> None:
    shown, summary, seen, _ = run(pieces(f"{FEEDBACK}\n{MARKER}\n```json\n{RUBRIC}\n```", cut))
    assert shown == FEEDBACK
    assert seen == [("```json\n" + RUBRIC, "")] and summary["analysis"] == {"source": "model"}


def test_a_bold_marker_line_is_the_marker() -> None:
    shown, _, seen, _ = run(pieces(f"{FEEDBACK}\n\n**{MARKER}**\n{RUBRIC}", 4))
    assert shown == FEEDBACK and seen == [(RUBRIC, "")]


@pytest.mark.parametrize("cut", [1, 5, 200])
def test_a_marker_ending_a_line_never_shows_the_json_after_it(cut: int) -> None:
    text = f"{FEEDBACK} Now the score {MARKER}\n{RUBRIC}"
    shown, _, seen, _ = run(pieces(text, cut))
    assert "{" not in shown and "score" not in shown.split(FEEDBACK)[-1].replace("score", "", 1)
    assert seen == [(RUBRIC, "")]


def test_text_held_at_a_possible_marker_line_still_lets_the_relay_ping() -> None:
    texts = [FEEDBACK, "\n<<<", *["x"] * 200]
    inline = InlineRubric(Tokens(texts), lambda r, w: {}, inline_ask("en"))  # type: ignore[arg-type]
    out = list(inline.texts(0.0))
    assert out.count("") >= 150


def test_coaching_in_the_anchors_words_is_not_a_copy_of_the_prompt() -> None:
    text = (
        "**To improve** Add a concrete example of the candidate's own work, with the result "
        "it had, and say what you did yourself step by step."
    )
    shown, _, seen, _ = run(pieces(text, 3))
    assert shown == text and seen == [(None, "no rubric after the feedback")]
