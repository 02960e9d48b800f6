"""The offline backend: deterministic coaching with no key and no network.

Feedback is a rule-based analysis of the candidate's own answer (STAR coverage and
balance, ownership, a quantified result, filler words, conclusion first, length),
each finding with a concrete suggestion. A model answer is a labelled template
shaped by the question. The text streams word by word through the same pipeline
as the real model, paced at `OFFLINE_TOKENS_PER_SECOND` so the page shows what
streaming looks like (0 sends it all at once).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from interview_app.coaching.analysis import analyse
from interview_app.coaching.feedback import feedback_en, feedback_ko, outline
from interview_app.coaching.request import CoachingRequest

_TOKEN = re.compile(r"\s*\S+|\s+")


class OfflineCompletion:
    """Streams a prepared text word by word, paced like a model."""

    def __init__(self, text: str, extra: dict[str, Any], tokens_per_second: float) -> None:
        self._tokens = _TOKEN.findall(text)
        self._extra = extra
        self._interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._closed = threading.Event()

    idle_ticks = True

    def texts(self, idle: float | None = None) -> Iterator[str]:
        if not self._interval:
            yield "".join(self._tokens)
            return
        step = self._interval if idle is None else min(idle, self._interval)
        for token in self._tokens:
            left = self._interval
            while True:
                # Event.wait doubles as the pace and as a prompt stop on close().
                if self._closed.wait(min(step, left)):
                    return
                left -= step
                if left <= 1e-9:
                    break
                yield ""  # `idle` seconds passed without a word
            yield token

    def close(self) -> None:
        self._closed.set()

    def summary(self) -> dict[str, Any]:
        return {
            "finish_reason": "stop",
            "backend": "offline",
            "model": "offline-coach",
            "usage": None,
            **self._extra,
        }


class OfflineBackend:
    """The embedded default backend."""

    name = "offline"
    model = "offline-coach"

    def __init__(self, tokens_per_second: float = 40.0, rubric: str = "rules") -> None:
        self.tokens_per_second = tokens_per_second
        self.rubric = rubric

    def open(self, request: CoachingRequest) -> OfflineCompletion:
        if request.kind == "feedback" and request.answer is not None:
            result = analyse(request.question, request.answer, request.language)
            text = (feedback_ko if request.language == "ko" else feedback_en)(result)
            extra: dict[str, Any] = {} if self.rubric == "off" else {"analysis": result.as_dict()}
        else:
            text, extra = outline(request), {}
        return OfflineCompletion(text, extra, self.tokens_per_second)

    def converse(
        self, messages: list[dict[str, str]], max_tokens: int, fallback: str
    ) -> OfflineCompletion:
        """The offline interviewer says `fallback`, paced like every other text."""
        return OfflineCompletion(fallback, {}, self.tokens_per_second)

    def structured(
        self, messages: list[dict[str, str]], name: str, schema: dict[str, Any], max_tokens: int
    ) -> str | None:
        """No model offline: the caller uses its rules."""
        return None

    def close(self) -> None:
        """Nothing to release."""
