"""Completions that are not a model's stream: a prepared text, a text with a note of ours,
and a model's stream still being opened.

Both satisfy the `Completion` port, so the relay streams them like any other: the
offline coach's feedback, the rules' interview report, an interviewer question a
scripted backend says as it is, and the over-time note before an answer's coaching.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from interview_app.llm.port import Completion, StreamFailure

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


class Opening:
    """A completion being opened in the background (`open_generation`), waited on briefly.

    A model server may send its response headers only with its first token
    (llama-cpp-python's server reads the first chunk before it answers): 13-35 s on a CPU
    model given the inline rubric's prompt, during which the candidate's browser got no
    byte at all (Heroku's router gives up at 30 s). The open runs in its own thread; the
    view waits `result(grace)` for it, so that a prompt refusal is still a real HTTP
    status, and past that streams a `Pending` completion that pings meanwhile. An open
    that is `queued` (held at the worker's gate past a tick or two, streaming/hub.py)
    ends that wait at once: the stream begins while it waits its turn, as issue 35
    asked, instead of a second later with no byte sent (500 streams in half a second:
    first byte p99 1.86 -> 1.0 s).
    """

    def __init__(self, open_: Callable[[Opening], Completion]) -> None:
        self._open = open_
        self._ready = threading.Event()
        self._settled = threading.Event()  # ready, or queued: no use waiting the grace
        self._lock = threading.Lock()
        self._abandoned = False
        self.completion: Completion | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            completion = self._open(self)
        except BaseException as exc:  # handed to whoever waits, raised there
            self.error = exc
        else:
            with self._lock:
                abandoned = self._abandoned
                self.completion = completion
            if abandoned:
                completion.close()  # the reader left while it opened
        finally:
            self._ready.set()
            self._settled.set()

    def queued(self) -> None:
        """It waits its turn at the gate: whoever waits on `result` stops waiting."""
        self._settled.set()

    def wait(self, seconds: float | None) -> bool:
        """Whether the open has ended (with a completion or an error) within `seconds`."""
        return self._ready.wait(seconds)

    def result(self, grace: float) -> Completion | None:
        """The completion if opened within `grace` seconds (its error raised), else None
        (also at once when it is queued)."""
        if not self._settled.wait(grace) or not self._ready.is_set():
            return None
        if self.error is not None:
            raise self.error
        assert self.completion is not None
        return self.completion

    @property
    def abandoned(self) -> bool:
        """Whether nobody will read it: an open still waiting for its turn is not sent."""
        return self._abandoned

    def abandon(self) -> None:
        """Nobody will read it: close the completion now or once it is open."""
        with self._lock:
            self._abandoned = True
            completion = self.completion
        if completion is not None:
            completion.close()


class Pending:
    """A completion whose upstream is still opening: "" every `idle` seconds until it is
    (the relay pings), then its text; an open that failed ends the stream with its problem.
    `idle_ticks` is the backend's: behind a proxy its completions cannot tick, so the view
    relays this one through a buffer that times the pings itself."""

    def __init__(
        self,
        opening: Opening,
        problem_of: Callable[[BaseException], Any],
        failed: Callable[[Exception], None],
        idle_ticks: bool,
    ) -> None:
        self._opening = opening
        self._problem_of = problem_of
        self._failed = failed  # its log line and metric, once the stream has begun
        self._inner: Completion | None = None
        self.idle_ticks = idle_ticks

    def texts(self, idle: float | None = None) -> Iterator[str]:
        while not self._opening.wait(idle):
            yield ""
        error = self._opening.error
        if error is not None:
            if not isinstance(error, Exception):
                raise error
            self._failed(error)
            problem = self._problem_of(error)
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None:  # the refusal's own (an upstream's 429 says how long)
                problem = replace(problem, retry_after=retry_after)
            raise StreamFailure(problem, counted=True)
        self._inner = self._opening.completion
        assert self._inner is not None
        yield from self._inner.texts(idle)

    def close(self) -> None:
        self._opening.abandon()

    def summary(self) -> dict[str, Any]:
        return self._inner.summary() if self._inner is not None else {}
