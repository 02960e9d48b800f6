"""Moving a generation into a stream buffer, and a stream buffer onto the wire.

Error phases: a failure before the first byte is raised by `LLM.open()` and the
API answers it with a real status; every failure after that becomes one `error`
event. Every stream ends with exactly one `done` or `error` event, because the
buffer refuses anything after the first terminal event.

Disconnects: a reader's departure is only noticed when a write fails; the server
then calls `close()` on our generator, `GeneratorExit` arrives at the current
`yield`, and `finally` runs. For a direct stream (`POST /api/answer`) that closes
the upstream at once; a stored stream (`/api/streams`) keeps generating for
readers who come back, until the store's grace period says nobody will.

Heartbeats: the reader waits on the buffer for at most `SSE_HEARTBEAT_SECONDS`
and writes a `: ping` comment when nothing came, so idle proxies keep the
connection and a departed client is noticed even while the model is silent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from interview_app.llm import Completion, StreamFailure
from interview_app.sse import PING
from interview_app.streams import Stream

log = logging.getLogger(__name__)

CANCELLED = {
    "code": "cancelled",
    "message": "Generation was stopped.",
    "retryable": False,
}


def pump(completion: Completion, stream: Stream, on_end: Callable[[str], None]) -> None:
    """Copy `completion` into `stream` until it ends, fails or the stream is cancelled."""
    outcome = "done"
    try:
        for text in completion:
            if not stream.append_text(text):
                outcome = "cancelled"
                return
        if not stream.finish("done", completion.summary()):
            outcome = "cancelled"
    except StreamFailure as exc:
        outcome = exc.code
        stream.finish(
            "error", {"code": exc.code, "message": exc.message, "retryable": exc.retryable}
        )
    except Exception:
        # A cancel closes the upstream under the producer's feet; that is not a bug.
        if stream.finish(
            "error",
            {"code": "internal", "message": "The stream failed on our side.", "retryable": True},
        ):
            log.exception("producer failed")
            outcome = "internal"
        else:
            outcome = "cancelled"
    finally:
        completion.close()
        on_end(outcome)


def start(completion: Completion, stream: Stream, on_end: Callable[[str], None]) -> None:
    """Run `pump` in its own thread (a greenlet under gevent)."""
    stream.on_cancel(completion.close)
    threading.Thread(target=pump, args=(completion, stream, on_end), daemon=True).start()


def read(
    stream: Stream,
    *,
    after: int,
    heartbeat: float,
    retry_ms: int,
    cancel_on_exit: bool,
) -> Iterator[bytes]:
    """The SSE body for `stream` from id `after` on, with heartbeats."""
    stream.attach()
    try:
        yield b"retry: %d\n\n" % retry_ms
        while True:
            frames, ended = stream.read(after, heartbeat)
            if frames:
                after += len(frames)
                yield b"".join(frames)
            elif ended:
                return
            else:
                yield PING
    finally:
        stream.detach()
        if cancel_on_exit:
            stream.cancel(CANCELLED)
