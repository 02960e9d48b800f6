"""The LLM port: what a backend offers the streaming layer, and how it fails.

`LLM.open()` makes the upstream request and returns only once the upstream has
answered with a status, so the API can still turn a failure into a real HTTP
status (`UpstreamError`). The returned `Completion` yields text as it arrives and
raises `StreamFailure` for anything that goes wrong after that. Both carry a
`Problem` from the catalogue (`problems.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from interview_app.coaching.request import CoachingRequest
from interview_app.problems import Problem


class _Failure(Exception):
    def __init__(self, problem: Problem, *, retry_after: int | None = None) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.code = problem.code
        self.message = problem.message
        self.status = problem.status
        self.retryable = problem.retryable
        self.retry_after = problem.retry_after if retry_after is None else retry_after


class UpstreamError(_Failure):
    """The upstream failed before the stream began; carries the HTTP answer to give."""


class StreamFailure(_Failure):
    """The stream failed after it began; becomes an `error` event. `counted`: its log
    line and metric were already written where it failed (an open that failed after the
    stream began, `Pending`), so the relay writes none: a refusal at the gate was counted
    as an upstream failure mid-stream, and an upstream that failed to open, twice."""

    def __init__(
        self, problem: Problem, *, retry_after: int | None = None, counted: bool = False
    ) -> None:
        super().__init__(problem, retry_after=retry_after)
        self.counted = counted


class Cancel:
    """A request we may give up on: `cancel()` closes what it registered (`on_cancel`), so
    the model server sees the connection close and stops generating for nobody."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self.cancelled = False

    def on_cancel(self, close: Callable[[], None]) -> None:
        """Call `close` on cancel (at once if already cancelled)."""
        with self._lock:
            if not self.cancelled:
                self._closers.append(close)
                return
        close()

    def cancel(self) -> None:
        """Give up: close everything registered."""
        with self._lock:
            self.cancelled = True
            closers, self._closers = self._closers, []
        for close in closers:
            close()


class Completion(Protocol):
    """One streaming generation: read `texts()`, then `summary()`."""

    # Whether `texts(idle)` really yields "" after `idle` seconds of silence.
    idle_ticks: bool

    def texts(self, idle: float | None = None) -> Iterator[str]:
        """Text as it arrives; with `idle`, also "" after each `idle` seconds without any."""
        ...

    def close(self) -> None:
        """Stop generating and release the upstream; safe to call twice, from any thread."""
        ...

    def summary(self) -> dict[str, Any]:
        """The `done` event's payload: finish reason, backend, model, usage (and extras)."""
        ...


class LLM(Protocol):
    """Something that streams a completion for a coaching request."""

    name: str
    model: str
    # Whether `converse` says its `fallback` as it is (no model writes the words), so
    # an interviewer's question is known before it has been said.
    scripted: bool

    def open(self, request: CoachingRequest) -> Completion:
        """Start generating; raises `UpstreamError` if the upstream refuses or is unreachable."""
        ...

    def converse(
        self, messages: list[dict[str, str]], max_tokens: int, fallback: str
    ) -> Completion:
        """Stream a reply to chat `messages` (a model), or `fallback` as it is (offline)."""
        ...

    def say(self, text: str, extra: dict[str, Any]) -> Completion:
        """Stream a prepared `text` (a report written by rules); `extra` joins its summary."""
        ...

    def structured(
        self,
        messages: list[dict[str, str]],
        name: str,
        schema: dict[str, Any],
        max_tokens: int,
        cancel: Cancel | None = None,
    ) -> str | None:
        """A model's JSON reply fitting `schema` (unvalidated), or None: no model, it failed,
        or it was cancelled (the request is then closed at the server)."""
        ...

    def close(self) -> None:
        """Release connections held for later requests."""
        ...
