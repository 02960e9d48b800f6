"""Completions that are not a model's stream: a prepared text, and a text with a note of ours.

Both satisfy the `Completion` port, so the relay streams them like any other: the
offline coach's feedback, the rules' interview report, an interviewer question a
scripted backend says as it is, and the over-time note before an answer's coaching.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from interview_app.llm.port import Completion

_TOKEN = re.compile(r"\s*\S+|\s+")


class Recited:
    """Streams a prepared text word by word, paced like a model (0: all at once)."""

    idle_ticks = True

    def __init__(
        self,
        text: str,
        extra: dict[str, Any],
        tokens_per_second: float,
        *,
        backend: str = "offline",
        model: str = "offline-coach",
    ) -> None:
        self._tokens = _TOKEN.findall(text)
        self._extra = extra
        self._interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._closed = threading.Event()
        self._backend = backend
        self._model = model

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
            "backend": self._backend,
            "model": self._model,
            "usage": None,
            **self._extra,
        }


class Prefixed:
    """A completion whose text begins with a note of ours (an answer that ran over time)."""

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


class Suffixed:
    """A completion whose text ends with a note of ours (how a spoken answer was said)."""

    def __init__(self, inner: Completion, note: str) -> None:
        self._inner = inner
        self._note = note
        self.idle_ticks = inner.idle_ticks

    def texts(self, idle: float | None = None) -> Iterator[str]:
        yield from self._inner.texts(idle)
        yield self._note

    def close(self) -> None:
        self._inner.close()

    def summary(self) -> dict[str, Any]:
        return self._inner.summary()
