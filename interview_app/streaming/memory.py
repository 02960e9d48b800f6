"""Stream buffers in this process's memory (the default store; see `store.py`).

The buffer assigns ids itself,
under its lock, so a terminal event added by the janitor (an abandoned stream)
can never collide with one added by the producer: after the first terminal
event every append is refused, which is also how the producer learns to stop.

The in-process store keeps buffers in a dict and runs one janitor thread that
ends streams nobody reads (`STREAM_GRACE_SECONDS`) and forgets finished ones
(`STREAM_TTL_SECONDS`). A stream whose generation never started (no producer after
twice `STREAM_TTL_SECONDS`: a request that died while opening its upstream)
is ended too, so nothing stays forever. Threads here are greenlets under
gunicorn's gevent worker.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from interview_app.problems import ABANDONED, INTERNAL, Problem
from interview_app.streaming.sse import json_event, text_event
from interview_app.streaming.store import Janitor, Stop


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
        self.created_at = self._idle_since
        self.ended_at: float | None = None
        self._stop: Stop | None = None

    def append_text(self, text: str) -> bool:
        """Add a text delta; False once the stream has ended (the producer should stop)."""
        with self._lock:
            if self._ended:
                return False
            self._frames.append(text_event(text, len(self._frames) + 1))
        self._wakeup.set()
        return True

    def append_event(self, event: str, payload: dict[str, Any]) -> bool:
        """Add a named event that does not end the stream (a live transcript's `partial`)."""
        with self._lock:
            if self._ended:
                return False
            self._frames.append(json_event(payload, event=event, id=len(self._frames) + 1))
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

    def done_generating(self) -> None:
        """Nothing to release here: the buffer lives as long as its readers need it."""

    def generating(self) -> bool:
        """Whether generation has started (`on_cancel` was called)."""
        return self._stop is not None

    def on_cancel(self, stop: Stop) -> None:
        """Generation starts: call `stop(problem)` (close the upstream) if the stream is cancelled.

        The grace period counts from here, not from `create()`: opening the upstream
        may take a while, and nobody can read a stream before its id is given out.
        """
        with self._lock:
            self._idle_since = time.monotonic()
            self._stop = stop

    def cancel(self, problem: Problem) -> None:
        """End the stream with an error event and stop its producer."""
        self.finish("error", problem.event())
        if self._stop is not None:
            self._stop(problem)


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

    def unfinished(self) -> list[str]:
        """The ids of streams that have not ended yet."""
        with self._lock:
            return [s.id for s in self._streams.values() if s.ended_at is None]

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
                if not stream.generating():
                    # Never started: a request that died while opening its upstream.
                    if now - stream.created_at > 2 * self.ttl:
                        stream.cancel(INTERNAL)
                elif stream.idle_for(now) > self.grace:
                    stream.cancel(ABANDONED)
            elif now - stream.ended_at > self.ttl:
                with self._lock:
                    self._streams.pop(stream.id, None)
