"""The SDK's HTTP transport: h11 on plain sockets, with a keep-alive pool.

The OpenAI SDK takes any httpx client, and a transport is httpx's documented
extension point, so the SDK still builds, authenticates, retries and judges
every request; only the bytes on the wire are ours. Why not httpx's default
transport (httpcore): reading a token's chunk through httpcore + httpx costs
markedly more CPU than through h11 on a socket (the measurement is in
docs/benchmarks-analysis.md), and httpcore's pool scans every connection it
holds on each request and release. h11 is the protocol
library httpcore itself uses; what is written here is the socket loop and the
pool, because no maintained library gives a body reader that can wait for the
next bytes with a deadline and carry on: httpx's iterators end the response on
a read timeout. `Body.read(wait)` can, which lets one greenlet per stream both
relay tokens and send heartbeats while the model is silent.

Reuse (as httpcore does it): an idle connection is checked before reuse, and one
that the server closed (or that holds unexpected bytes) is dropped for a fresh
one. A request whose bytes went out on a live connection is never re-sent here:
the upstream may have received it and be generating (and billing) already, so
after a send the SDK's own `max_retries` is the only retry policy.

First byte deadline: `FIRST_BYTE_DEADLINE` (a context variable, set by the
backend around one `create()` call) bounds the whole wait for the response
headers, the SDK's retries included, so a frozen upstream is answered with 504
before a PaaS router gives up (Heroku: 30 s). Past it the transport raises the
SDK's own `APITimeoutError`, which the SDK propagates without another retry.

Scope: HTTP/1.1 over TCP or TLS, which is what OpenAI, Azure, vLLM, Ollama and
llama.cpp speak. Bodies are asked for uncompressed (`Accept-Encoding:
identity`) so raw reads are the text. When an HTTP(S)_PROXY applies, `openai_backend.py`
uses httpx's own transport instead, which knows proxies.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import h11
import httpx2
import openai

BODY = "interview_app.body"  # the response extension that holds the `Body`
KEEPALIVE_SECONDS = 5.0  # an idle connection older than this is closed, not reused
DNS_SECONDS = 30.0  # how long a host's addresses are reused before asking again
_READ_SIZE = 65536
_Key = tuple[str, str, int]

# The monotonic time by which the response headers must have come, or None.
FIRST_BYTE_DEADLINE: ContextVar[float | None] = ContextVar("first_byte_deadline", default=None)


def _left(request: httpx2.Request) -> float | None:
    """Seconds left before the first-byte deadline; raises the SDK's timeout once it passed."""
    deadline = FIRST_BYTE_DEADLINE.get()
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise openai.APITimeoutError(request=request)
    return left


def _cap(timeout: float | None, left: float | None) -> float | None:
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


class _Connection:
    __slots__ = ("key", "sock", "h11", "idle_since", "timeout")

    def __init__(self, key: _Key, sock: socket.socket) -> None:
        self.key = key
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.timeout: float | None = sock.gettimeout()

    def settimeout(self, timeout: float | None) -> None:
        if timeout != self.timeout:
            self.sock.settimeout(timeout)
            self.timeout = timeout

    def close(self) -> None:
        # shutdown() first: it also wakes a thread blocked in recv() on this socket,
        # and the upstream sees the FIN at once.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _map_error(exc: BaseException, request: httpx2.Request, *, reading: bool) -> Exception:
    """The httpx exception for a socket or protocol failure, so the SDK maps it as usual."""
    if isinstance(exc, socket.timeout):
        kind: type[httpx2.TransportError] = httpx2.ReadTimeout if reading else httpx2.ConnectTimeout
    elif isinstance(exc, h11.ProtocolError):
        kind = httpx2.RemoteProtocolError
    else:
        kind = httpx2.ReadError if reading else httpx2.ConnectError
    return kind(f"{type(exc).__name__}: {exc}", request=request)


class OutOfDescriptors(openai.OpenAIError):
    """This process has no file descriptor left for a new upstream connection.

    Our capacity, not the model server's failure: the SDK propagates its own error
    types without retrying, and the backend answers 503 (`server_busy`).
    """


@contextmanager
def _descriptors_are_capacity() -> Iterator[None]:
    """Out of file descriptors (EMFILE/ENFILE) becomes `OutOfDescriptors`."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            raise OutOfDescriptors(str(exc)) from None
        raise


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: EOF or stray bytes, so it is dead."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Body(httpx2.SyncByteStream):
    """A response body read straight off its connection."""

    def __init__(self, pool: H11Transport, conn: _Connection, request: httpx2.Request) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        # Not the request itself: a held stream would keep its headers and its whole
        # body (the prompt) alive for nothing; a read error needs only the URL's name.
        self._url = str(request.url)
        timeouts = request.extensions.get("timeout") or {}
        self._read_timeout: float | None = timeouts.get("read")
        self._last_data = time.monotonic()

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(None):
            yield data

    def read(self, wait: float | None) -> bytes | None:
        """The next body bytes; None if none came within `wait` seconds; b"" at the end.

        Silence longer than the request's read timeout raises `httpx2.ReadTimeout`.
        """
        conn = self._conn
        if conn is None:
            return b""
        try:
            while True:
                event = conn.h11.next_event()
                if type(event) is h11.Data:
                    self._last_data = time.monotonic()
                    return bytes(event.data)
                if event is h11.NEED_DATA:
                    if not self._receive(conn, wait):
                        return None
                    continue
                if type(event) is h11.EndOfMessage:
                    self._conn = None
                    self._pool.finish(conn, reusable=True)
                    return b""
                raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")
        except (OSError, h11.ProtocolError) as exc:
            self.close()
            raise _map_error(exc, httpx2.Request("GET", self._url), reading=True) from exc

    def _receive(self, conn: _Connection, wait: float | None) -> bool:
        """Feed h11 what the socket has; False if nothing came within `wait`."""
        timeout = self._read_timeout
        if timeout is not None:
            left = self._last_data + timeout - time.monotonic()
            if left <= 0:
                raise TimeoutError("the upstream was silent past its read timeout")
            timeout = left
        final = wait is None or (timeout is not None and timeout <= wait)
        conn.settimeout(timeout if final else wait)
        try:
            data = conn.sock.recv(_READ_SIZE)
        except TimeoutError:
            if final:
                raise
            return False
        conn.h11.receive_data(data)
        return True

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # Part of the body is unread: the connection cannot carry another request.
            self._pool.finish(conn, reusable=False)


class H11Transport(httpx2.BaseTransport):
    """HTTP/1.1 for the SDK, with at most `max_connections` open at once."""

    def __init__(self, ssl_context: ssl.SSLContext, max_connections: int) -> None:
        self._ssl = ssl_context
        self._idle: dict[_Key, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._dns: dict[tuple[str, int], tuple[float, list[Any]]] = {}
        self.open_connections = 0
        self._reaper: threading.Thread | None = None

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts = dict(request.extensions.get("timeout") or {})
        left = _left(request)
        if not self._slots.acquire(timeout=_cap(timeouts.get("pool"), left)):
            _left(request)
            raise httpx2.PoolTimeout("no free upstream connection", request=request)
        headers = [
            (name, b"identity" if name.lower() == b"accept-encoding" else value)
            for name, value in request.headers.raw
        ]
        message = h11.Request(method=request.method, target=url.raw_path, headers=headers)
        content = request.read()
        try:
            conn = self._reused(key) or self._connect(key, request, timeouts)
            return self._exchange(conn, request, message, content, timeouts)
        except BaseException:
            self._slots.release()
            raise

    def _reused(self, key: _Key) -> _Connection | None:
        now = time.monotonic()
        expired: list[_Connection] = []
        conn = None
        with self._lock:
            for idle in self._idle.values():
                while idle and now - idle[0].idle_since > KEEPALIVE_SECONDS:
                    expired.append(idle.pop(0))
            mine = self._idle.get(key)
            while mine:
                conn = mine.pop()
                if not _readable(conn.sock):
                    break
                # Closed by the server while idle (or holding stray bytes): never reuse.
                expired.append(conn)
                conn = None
            self.open_connections -= len(expired)
        for old in expired:
            old.close()
        return conn

    def _reap(self) -> None:
        """Close idle connections when they pass KEEPALIVE_SECONDS, not at the next request.

        Runs while any connection is idle, and ends when none is (started again by
        the next one), so an unused transport holds no thread.
        """
        while True:
            time.sleep(min(1.0, KEEPALIVE_SECONDS / 2) or 0.05)
            self._reused(("", "", 0))  # drops every expired connection; reuses nothing
            with self._lock:
                if not any(self._idle.values()):
                    self._reaper = None
                    return

    def _addresses(self, host: str, port: int) -> list[Any]:
        # Under gevent every lookup, even of a literal IP, is a hop to a resolver
        # thread; a burst of new streams paid it once per connection.
        now = time.monotonic()
        cached = self._dns.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        self._dns[(host, port)] = (now + DNS_SECONDS, found)
        return found

    def _open_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        error: OSError | None = None
        # The lookup needs descriptors too (gevent's resolver thread): out of them, it
        # is the same capacity condition as the socket, not an unreachable upstream.
        with _descriptors_are_capacity():
            addresses = self._addresses(host, port)
        for family, kind, proto, _, address in addresses:
            with _descriptors_are_capacity():
                sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"no address for {host}")

    def _connect(self, key: _Key, request: httpx2.Request, timeouts: dict[str, Any]) -> _Connection:
        scheme, host, port = key
        try:
            sock = self._open_socket(host, port, _cap(timeouts.get("connect"), _left(request)))
        except OSError as exc:
            _left(request)
            raise _map_error(exc, request, reading=False) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
        except OSError as exc:
            sock.close()  # a refused certificate must not leak the socket
            raise _map_error(exc, request, reading=False) from exc
        with self._lock:
            self.open_connections += 1
        return _Connection(key, sock)

    def _exchange(
        self,
        conn: _Connection,
        request: httpx2.Request,
        message: h11.Request,
        content: bytes,
        timeouts: dict[str, Any],
    ) -> httpx2.Response:
        try:
            conn.settimeout(timeouts.get("write"))
            machine = conn.h11
            conn.sock.sendall(
                machine.send(message)
                + (machine.send(h11.Data(data=content)) if content else b"")
                + machine.send(h11.EndOfMessage())
            )
            # The read timeout bounds the whole header phase, not each recv: headers
            # trickling in a byte at a time must not stretch it.
            read = timeouts.get("read")
            until = None if read is None else time.monotonic() + read
            while True:
                event = machine.next_event()
                if event is h11.NEED_DATA:
                    left = None if until is None else until - time.monotonic()
                    if left is not None and left <= 0:
                        raise TimeoutError("the upstream's headers took too long")
                    conn.settimeout(_cap(left, _left(request)))
                    machine.receive_data(conn.sock.recv(_READ_SIZE))
                elif type(event) is h11.Response:
                    break
                elif type(event) is not h11.InformationalResponse:
                    raise h11.RemoteProtocolError("the server closed without answering")
        except (OSError, h11.ProtocolError) as exc:
            self._discard(conn)
            _left(request)
            raise _map_error(exc, request, reading=True) from exc
        body = Body(self, conn, request)
        return httpx2.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=body,
            extensions={
                "http_version": b"HTTP/" + event.http_version,
                "reason_phrase": event.reason,
                BODY: body,
            },
        )

    def finish(self, conn: _Connection, *, reusable: bool) -> None:
        """Take a connection back after its response, keeping it if it can serve another."""
        machine = conn.h11
        keep = (
            reusable
            and machine.our_state is h11.DONE
            and machine.their_state is h11.DONE
            and not machine.trailing_data[0]
        )
        if keep:
            machine.start_next_cycle()
            conn.idle_since = time.monotonic()
            with self._lock:
                self._idle.setdefault(conn.key, []).append(conn)
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, daemon=True)
                    self._reaper.start()
        else:
            self._discard(conn)
        self._slots.release()

    def _discard(self, conn: _Connection) -> None:
        with self._lock:
            self.open_connections -= 1
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
            self.open_connections -= len(idle)
        for conn in idle:
            conn.close()
