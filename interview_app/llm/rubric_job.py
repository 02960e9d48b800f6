"""The model's rubric for one feedback stream: requested with it, awaited at its end.

At most one extra upstream request per feedback, started at the feedback's first
text (in its own thread, a greenlet under gevent): a server that runs requests in
parallel usually answers it before the last token, so it adds no waiting; a server
that runs one request at a time (llama.cpp with one slot) would otherwise have run
the rubric first and held the feedback's first words for its whole length. When
the feedback ends, `analysis()` waits at most `RUBRIC_TIMEOUT_SECONDS` more; a
rubric that is late, invalid, or refused by the upstream gives way to the rules'
rubric (`source: "rules"`), and the feedback stream never fails because of it. A
rubric given up on is cancelled: its request is closed, so the server stops.

Structured output goes through the backend's one structured request
(`OpenAIBackend.structured`): the SDK's `response_format` JSON schema first; a
server that refuses it (HTTP 400 or 422, or a 5xx naming the format) gets JSON
mode (`json_object`, the schema in the prompt, validated by `coaching.rubric`)
from then on. That switch is remembered by
the backend, so it costs one fallback to the rules, not a second request.

`RUBRIC=inline` (`InlineRubric`) asks for the rubric in the feedback's own request
instead: the model writes its feedback, then `rubric.MARKER` on a line, then the
rubric as JSON. The relay shows the text before the marker and holds back the rest;
at the end the JSON is validated the same way (`rubric.from_model`), else the rules
answer. One request instead of two halves what a feedback costs the model server
(the answer's prompt is read once) and costs the relay about 1 ms less CPU per
feedback (docs/benchmarks-analysis.md); its price is time: `done` comes after the
model has written the rubric too, about 150 tokens after the feedback's last word,
and no JSON schema constrains the model (JSON in the prompt, validated here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from interview_app.coaching import rubric
from interview_app.coaching.analysis import Analysis
from interview_app.coaching.request import CoachingRequest
from interview_app.llm.port import Cancel, Completion, StreamFailure

log = logging.getLogger(__name__)

# The backend's structured request: (messages, schema name, schema, max tokens, cancel)
# -> JSON or None.
Ask = Callable[[list[dict[str, str]], str, dict[str, Any], int, Cancel], "str | None"]


class RubricJob:
    """One rubric request, running beside its feedback stream."""

    def __init__(self, ask: Ask, request: CoachingRequest, max_tokens: int) -> None:
        self._ask = ask
        self._request = request
        self._max_tokens = max_tokens
        self._reply: str | None = None
        self.failure = ""
        self._done = threading.Event()
        self._started = False
        self._cancel = Cancel()

    def start(self) -> None:
        """Send the request (once)."""
        if not self._started:
            self._started = True
            threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            messages = rubric.messages(self._request)
            schema = rubric.SCHEMA
            self._reply = self._ask(messages, "rubric", schema, self._max_tokens, self._cancel)
            if self._reply is None:
                self.failure = "refused or failed"
        except Exception as exc:  # the feedback never fails because of its rubric
            self.failure = type(exc).__name__
        finally:
            self._done.set()

    def analysis(
        self, wait: float, counted: Callable[[], rubric.Counted], rules: Callable[[], Analysis]
    ) -> dict[str, Any]:
        """The model's rubric if it is ready within `wait` seconds and valid; else the rules'
        (`rules` reads the whole answer only then: about 250 us, against 20 us for the
        counts the model's rubric takes)."""
        reply = None
        if not self._started:
            reason = "not started"
        elif not self._done.wait(wait):
            reason = "timeout"
            self._cancel.cancel()  # closed at the server: it stops generating for nobody
        else:
            reply, reason = self._reply, self.failure
        return judge(reply, reason, self._request, counted, rules)


def judge(
    reply: str | None,
    why: str,
    request: CoachingRequest,
    counted: Callable[[], rubric.Counted],
    rules: Callable[[], Analysis],
) -> dict[str, Any]:
    """The model's rubric from `reply` if it fits (`rubric.from_model`), else the rules'
    (logged with the reason: `why`, or "invalid")."""
    if reply is not None:
        start, end = reply.find("{"), reply.rfind("}")
        if 0 <= start < end:  # a model may wrap it in a code fence anyway
            judged = rubric.from_model(reply[start : end + 1], request, counted())
            if judged is not None:
                return judged
        why = why or "invalid"
    log.warning("model rubric not used: %s", why, extra={"rubric_fallback": why})
    return rules().as_dict()


class InlineRubric:
    """A feedback stream that carries its own rubric after `rubric.MARKER` (RUBRIC=inline).

    The text before the marker is relayed as it comes; a piece that might be the start
    of the marker, and trailing whitespace (the blank line before the marker), are held
    back until the next text says whether the marker follows. Nothing after
    the marker is shown: it is the rubric, judged at the end by `judge`, which gives
    the rules' rubric when it is missing or does not fit. A stream that fails after
    the marker has ended its feedback: it ends normally, with the rules' rubric.
    """

    def __init__(self, inner: Completion, judge: Callable[[str | None, str], dict[str, Any]]):
        self._inner = inner
        self._judge = judge
        self.idle_ticks = inner.idle_ticks
        self._tail: list[str] | None = None
        self._failure = ""

    def texts(self, idle: float | None = None) -> Iterator[str]:
        marker = rubric.MARKER
        first = marker[0]
        held = ""  # what may be the marker's beginning ("<<", "<<<RUB")
        blank = ""  # trailing whitespace, shown only if more text follows the marker's way
        try:
            for text in self._inner.texts(idle):
                if self._tail is not None:
                    self._tail.append(text)
                    continue
                if held:
                    text, held = held + text, ""
                if first in text:
                    at = text.find(marker)
                    if at >= 0:
                        self._tail = [text[at + len(marker) :]]
                        text = text[:at].rstrip()  # the blank line before the marker too
                        if text:
                            yield blank + text
                        continue
                    start = text.find(first, max(0, len(text) - len(marker) + 1))
                    while start >= 0 and not marker.startswith(text[start:]):
                        start = text.find(first, start + 1)
                    if start >= 0:
                        text, held = text[:start], text[start:]
                body = text.rstrip()
                if body:
                    yield blank + body
                    blank = text[len(body) :]
                else:
                    blank += text
        except StreamFailure as exc:
            if self._tail is None:
                raise
            self._failure = f"cut after the feedback ({exc.code})"
        if self._tail is None and blank + held:
            yield blank + held  # the stream ended: it was not the marker

    def close(self) -> None:
        self._inner.close()

    def summary(self) -> dict[str, Any]:
        out = self._inner.summary()
        if self._tail is not None:
            out["finish_reason"] = "stop"  # the feedback ended by the model's choice
            reply: str | None = "".join(self._tail)
            why = self._failure
        else:
            reply, why = None, "no rubric after the feedback"
        out["analysis"] = self._judge(reply, why)
        return out
