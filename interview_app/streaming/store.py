"""What a stream store offers: the `Stream` and `Store` protocols, and their janitor.

A generation (the producer) appends events to a stream; any number of readers read
the events after the last id they saw, so a reader can leave and come back with
`Last-Event-ID` and get exactly what it missed. Two stores implement this: this
process's memory (`memory.py`) and Redis (`redis_store.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from interview_app.problems import Problem


class StoreUnavailable(Exception):
    """The shared store (Redis) cannot be reached."""


Stop = Callable[[Problem], None]


class Stream(Protocol):
    """One generation's events, addressable by id."""

    id: str

    def append_text(self, text: str) -> bool:
        """Add a text delta; False once the stream has ended (the producer should stop)."""
        ...

    def append_event(self, event: str, payload: dict[str, Any]) -> bool:
        """Add a named event that does not end the stream; False once it has ended."""
        ...

    def finish(self, event: str, payload: dict[str, Any]) -> bool:
        """Add the terminal `done` or `error` event; False if the stream had already ended."""
        ...

    def read(self, after: int, timeout: float) -> tuple[list[bytes], bool]:
        """Frames after id `after` (waiting up to `timeout` for one), and whether it ended."""
        ...

    def attach(self) -> None:
        """A reader arrives: the grace period does not run while one is attached."""
        ...

    def detach(self) -> None:
        """A reader leaves: the grace period starts counting if it was the last."""
        ...

    def on_cancel(self, stop: Stop) -> None:
        """Generation starts: call `stop(problem)` if the stream is ended from outside."""
        ...

    def cancel(self, problem: Problem) -> None:
        """End the stream with `problem` as its error event, and stop its producer."""
        ...

    def size(self) -> tuple[int, bool]:
        """The last id so far, and whether the stream has ended."""
        ...

    def done_generating(self) -> None:
        """The producer has stopped, however it ended (never raises)."""
        ...


class Store(Protocol):
    """Where streams live: this process (default) or Redis."""

    def create(self) -> Stream:
        """A new, registered, empty stream with an unguessable id."""
        ...

    def get(self, stream_id: str) -> Stream | None:
        """The stream with that id, if it exists and has not expired."""
        ...

    def is_local(self, stream_id: str) -> bool:
        """Whether this process generates the stream."""
        ...

    def sweep(self, now: float | None = None) -> None:
        """End abandoned streams and forget expired ones."""
        ...


class Janitor:
    """Calls `sweep` every `interval` seconds from one daemon thread.

    Started on a store's first stream, inside the worker, never at import time.
    """

    def __init__(self, sweep: Callable[[], None], interval: float) -> None:
        self._sweep = sweep
        self._interval = max(0.05, min(1.0, interval))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start the sweeping thread if it is not running yet."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self._sweep()
