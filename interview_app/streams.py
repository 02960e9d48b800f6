"""Stream buffers: the events of one generation, kept apart from any connection.

A generation (the producer) appends events; any number of readers read the
events after the last id they saw, so a reader can leave and come back with
`Last-Event-ID` and get exactly what it missed. The buffer assigns ids itself,
under its lock, so a terminal event added by the janitor (an abandoned stream)
can never collide with one added by the producer: after the first terminal
event every append is refused, which is also how the producer learns to stop.

The in-process store keeps buffers in a dict and runs one janitor thread that
ends streams nobody reads (`STREAM_GRACE_SECONDS`) and forgets finished ones
(`STREAM_TTL_SECONDS`). Threads here are greenlets under gunicorn's gevent worker.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from interview_app.sse import json_event, text_event


class StoreUnavailable(Exception):
    """The shared store (Redis) cannot be reached."""


ABANDONED = {
    "code": "stream_abandoned",
    "message": "Nobody was reading this stream, so generation stopped. Start a new one.",
    "retryable": False,
}


class Stream(Protocol):
    """One generation's events, addressable by id."""

    id: str

    def append_text(self, text: str) -> bool: ...

    def finish(self, event: str, payload: dict[str, Any]) -> bool: ...

    def read(self, after: int, timeout: float) -> tuple[list[bytes], bool]: ...

    def attach(self) -> None: ...

    def detach(self) -> None: ...

    def on_cancel(self, callback: Callable[[], None]) -> None: ...

    def cancel(self, payload: dict[str, Any]) -> None: ...

    def size(self) -> tuple[int, bool]: ...


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
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self._sweep()


class Store(Protocol):
    """Where streams live: this process (default) or Redis."""

    def create(self) -> Stream: ...

    def get(self, stream_id: str) -> Stream | None: ...

    def is_local(self, stream_id: str) -> bool: ...

    def sweep(self, now: float | None = None) -> None: ...


class MemoryStream:
    """A stream buffer in this process's memory.

    Readers wait on an Event rather than a Condition: under gevent it is one
    C-level primitive, and waking a reader is the per-token hot path. `ended` is
    read before the frames, so a reader that sees the end also gets its event.
    """

    def __init__(self, id: str = "") -> None:
        self.id = id
        self._frames: list[bytes] = []
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._ended = False
        self._readers = 0
        self._idle_since: float = time.monotonic()
        self.ended_at: float | None = None
        self._cancel: Callable[[], None] | None = None

    def append_text(self, text: str) -> bool:
        """Add a text delta; False once the stream has ended (the producer should stop)."""
        with self._lock:
            if self._ended:
                return False
            self._frames.append(text_event(text, len(self._frames) + 1))
        self._wakeup.set()
        return True

    def finish(self, event: str, payload: dict[str, Any]) -> bool:
        """Add the terminal `done` or `error` event; False if it already ended."""
        with self._lock:
            if self._ended:
                return False
            self._frames.append(json_event(payload, event=event, id=len(self._frames) + 1))
            self.ended_at = time.monotonic()
            self._ended = True
        self._wakeup.set()
        return True

    def read(self, after: int, timeout: float) -> tuple[list[bytes], bool]:
        """Frames after id `after` (waiting up to `timeout` for one), and whether it ended."""
        if len(self._frames) <= after and not self._ended:
            self._wakeup.clear()
            # Checked again after clear(): an append in between has set it anew.
            if len(self._frames) <= after and not self._ended:
                self._wakeup.wait(timeout)
        ended = self._ended
        return self._frames[after:], ended

    def size(self) -> tuple[int, bool]:
        """The last id so far, and whether the stream has ended."""
        with self._lock:
            return len(self._frames), self._ended

    def attach(self) -> None:
        with self._lock:
            self._readers += 1

    def detach(self) -> None:
        with self._lock:
            self._readers -= 1
            self._idle_since = time.monotonic()

    def idle_for(self, now: float) -> float:
        """Seconds with no reader attached (0 while one is)."""
        with self._lock:
            return 0.0 if self._readers else now - self._idle_since

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Generation starts: run `callback` (close the upstream) if the stream is cancelled.

        The grace period counts from here, not from `create()`: opening the upstream
        may take a while, and nobody can read a stream before its id is given out.
        """
        with self._lock:
            self._idle_since = time.monotonic()
            self._cancel = callback

    def cancel(self, payload: dict[str, Any]) -> None:
        """End the stream with an error event and stop its producer."""
        self.finish("error", payload)
        if self._cancel is not None:
            self._cancel()


class MemoryStore:
    """Streams of this process, by unguessable id."""

    def __init__(self, ttl: float, grace: float) -> None:
        self.ttl = ttl
        self.grace = grace
        self._streams: dict[str, MemoryStream] = {}
        self._lock = threading.Lock()
        self._janitor = Janitor(self.sweep, min(grace, ttl) / 4)

    def create(self) -> MemoryStream:
        """A new, registered stream."""
        stream = MemoryStream(secrets.token_urlsafe(16))
        with self._lock:
            self._streams[stream.id] = stream
        self._janitor.ensure_started()
        return stream

    def get(self, stream_id: str) -> MemoryStream | None:
        """The stream with that id, if it exists and has not expired."""
        with self._lock:
            return self._streams.get(stream_id)

    def is_local(self, stream_id: str) -> bool:
        """Whether this process generates the stream: always, in memory."""
        return True

    def sweep(self, now: float | None = None) -> None:
        """End abandoned streams and forget expired ones."""
        now = time.monotonic() if now is None else now
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:
            if stream.ended_at is None:
                if stream._cancel is not None and stream.idle_for(now) > self.grace:
                    stream.cancel(ABANDONED)
            elif now - stream.ended_at > self.ttl:
                with self._lock:
                    self._streams.pop(stream.id, None)
