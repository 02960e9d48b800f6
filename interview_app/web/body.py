"""Reading a request body: bounded in size, in time, and in how many are read at once.

Hand-written because the server's reader trusts the client: werkzeug's limit
(`MAX_CONTENT_LENGTH`) looks at `Content-Length`, which a chunked body does not
have; gunicorn's chunked decoder raises its own exception types on bad encoding
(a 500 with the client's bytes in a traceback); a `Content-Length` longer than
the body followed by FIN reads as a short body; and nothing times out a body
sent a byte every two seconds. Here:

- more than `MAX_BODY_BYTES`, declared or sent (chunked): 413;
- broken chunked encoding, or fewer bytes than `Content-Length` promised: 400;
- not complete within `BODY_TIMEOUT_SECONDS`: 408;
- a client (its address, as the quotas see it) with `MAX_BODY_READS_PER_CLIENT`
  bodies already arriving slowly (still unread after half a second) gets 503 at
  once for the next one. A client that keeps opening slow uploads holds a handful
  of connections for `BODY_TIMEOUT_SECONDS` each, and every other candidate's
  request goes through: the worker's capacity stays for new clients. Bodies that
  arrive at once never count, so many quick requests from one address (a NAT, a
  load test) are never refused. (A cap on all bodies at once would not work
  either: a quick candidate's body needs a slot too, and slow senders hold them.)

After any of these the rest of the body is not read: the connection's read side
is shut down, so the server answers and closes it instead of draining a body
from a client that sends nothing (a WSGI app may not send `Connection: close`).

The time limit is a gevent `Timeout` under the gevent worker (where it must
interrupt a greenlet blocked in `recv`), and the socket's own timeout otherwise;
this is the one place in the package that touches gevent.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from flask import Request

from interview_app.problems import BODY_TIMEOUT, TOO_MANY_UPLOADS, Refused, invalid

_CHUNK = 64 * 1024
SLOW_AFTER = 0.5  # seconds: a body still arriving after this counts as slow


class _Expired(Exception):
    """The body's time ran out."""


class BodyReader:
    """Reads request bodies for one worker under its size, time and concurrency limits."""

    def __init__(self, max_bytes: int, timeout: float, per_client: int) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.per_client = per_client
        self._reading: dict[str, list[float]] = {}  # start times of reads in progress
        self._lock = threading.Lock()

    def read(
        self,
        request: Request,
        client: str,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """The whole body of `request` (at most `limit` bytes, default `MAX_BODY_BYTES`,
        within `timeout` seconds, default `BODY_TIMEOUT_SECONDS`), or `Refused` (400, 408,
        413 or 503)."""
        limit = limit or self.max_bytes
        started = time.monotonic()
        with self._lock:
            reading = self._reading.setdefault(client, [])
            slow = sum(1 for t in reading if started - t > SLOW_AFTER)
            if slow >= self.per_client:
                if not reading:
                    self._reading.pop(client, None)
                raise Refused(TOO_MANY_UPLOADS)
            reading.append(started)
        try:
            return self._guarded(request, limit, timeout or self.timeout)
        except Refused as exc:
            status = exc.problem.status
            # An oversized body still arriving is read and dropped (up to a bound):
            # closing a socket with unread bytes resets it, and the client may
            # never see the 413.
            if status in (400, 408) or (status == 413 and not self._drain(request, limit)):
                _abandon(request.environ)
            raise
        finally:
            with self._lock:
                reading = self._reading.get(client, [])
                if started in reading:
                    reading.remove(started)
                if not reading:
                    self._reading.pop(client, None)

    def _guarded(self, request: Request, limit: int, timeout: float) -> bytes:
        length = request.content_length
        if length is not None and length > limit:
            raise _too_large(limit)
        try:
            with _deadline(request.environ, timeout):
                data = self._read(request.environ["wsgi.input"], length, limit)
        except _Expired:
            raise Refused(BODY_TIMEOUT) from None
        except (OSError, ValueError) as exc:
            if isinstance(exc, TimeoutError):
                raise Refused(BODY_TIMEOUT) from None
            raise invalid("invalid_body", "The request body could not be read.") from None
        except Exception as exc:
            # gunicorn's chunked decoder raises its own types (InvalidChunkSize,
            # ChunkMissingTerminator, NoMoreData): the client's fault, never a 500.
            if type(exc).__module__.startswith("gunicorn."):
                raise invalid("invalid_body", "The request body is malformed.") from None
            raise
        if length is not None and len(data) < length:
            raise invalid("incomplete_body", "The request body ended before its length.")
        return data

    def _drain(self, request: Request, limit: int) -> bool:
        """Read and drop the rest of the body; True if it ended within bounds."""
        budget = 4 * limit
        if (request.content_length or 0) > budget:
            return False
        try:
            with _deadline(request.environ, self.timeout):
                stream = request.environ["wsgi.input"]
                while budget > 0:
                    part = stream.read(_CHUNK)
                    if not part:
                        return True
                    budget -= len(part)
        except Exception:
            return False
        return False

    def _read(self, stream: Any, length: int | None, limit: int) -> bytes:
        # Without a length (chunked), read one byte past the limit to know it is exceeded.
        want = (length if length is not None else limit + 1) or 0
        parts: list[bytes] = []
        got = 0
        while got < want:
            part = stream.read(min(_CHUNK, want - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
        if got > limit:
            raise _too_large(limit)
        return b"".join(parts)


def _abandon(environ: dict[str, Any]) -> None:
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)


def _too_large(limit: int) -> Refused:
    return invalid("body_too_large", f"The request body is larger than {limit} bytes.", 413)


@contextlib.contextmanager
def _socket_timeout(sock: socket.socket | None, seconds: float) -> Any:
    if sock is None:
        yield
        return
    before = sock.gettimeout()
    sock.settimeout(seconds)
    try:
        yield
    finally:
        sock.settimeout(before)


def _deadline(environ: dict[str, Any], seconds: float) -> Any:
    """A limit on the whole read: gevent's Timeout under gevent, else the socket's timeout."""
    try:
        from gevent import Timeout, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        monkey = None
    if monkey is not None and monkey.is_module_patched("socket"):
        return Timeout(seconds, _Expired)
    return _socket_timeout(environ.get("gunicorn.socket"), seconds)
