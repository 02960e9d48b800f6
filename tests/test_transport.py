"""Our h11 transport under the real SDK, over real sockets to the local upstream.

A `CuttableProxy` between the two counts the TCP connections the transport
opens and can drop them, as a server closing an idle keep-alive connection does.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from interview_app.coaching.request import CoachingRequest as Request
from interview_app.llm import transport
from interview_app.llm.openai_backend import OpenAIBackend
from interview_app.llm.port import StreamFailure, UpstreamError
from tests.helpers.env import MakeBackend
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.proxy import CuttableProxy

REQ = Request("answer", "Why do you want this job?", None, "en", None)


@pytest.fixture
def proxy(upstream: FakeUpstream) -> Iterator[CuttableProxy]:
    made = CuttableProxy(upstream.port)
    yield made
    made.close()


def through(proxy: CuttableProxy) -> dict[str, str]:
    return {"openai_base_url": f"http://127.0.0.1:{proxy.port}/v1"}


def text(made: OpenAIBackend) -> str:
    completion = made.open(REQ)
    try:
        return "".join(completion.texts())
    finally:
        completion.close()


def test_finished_streams_share_one_keepalive_connection(
    upstream: FakeUpstream, proxy: CuttableProxy, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a", "b"])
    made = backend(upstream, **through(proxy))
    assert [text(made) for _ in range(3)] == ["ab"] * 3
    assert proxy.connections == 1
    assert made.transport is not None and made.transport.open_connections == 1


def test_idle_connection_past_keepalive_is_not_reused(
    upstream: FakeUpstream,
    proxy: CuttableProxy,
    monkeypatch: pytest.MonkeyPatch,
    backend: MakeBackend,
) -> None:
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 0.0)
    upstream.script = Script(tokens=["a"])
    made = backend(upstream, **through(proxy))
    text(made)
    time.sleep(0.01)
    text(made)
    assert proxy.connections == 2
    assert made.transport is not None and made.transport.open_connections == 1


def test_connection_closed_while_idle_is_retried_once_on_a_new_one(
    upstream: FakeUpstream, proxy: CuttableProxy, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a"])
    made = backend(upstream, **through(proxy))
    text(made)
    proxy.cut()  # the server side of the idle connection goes away
    time.sleep(0.05)
    assert text(made) == "a"
    assert proxy.connections == 2
    assert len(upstream.requests) == 2  # the dead connection carried no request


def test_a_stream_left_unfinished_closes_its_connection(
    upstream: FakeUpstream, proxy: CuttableProxy, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a"] * 100, interval=0.02)
    made = backend(upstream, **through(proxy))
    completion = made.open(REQ)
    next(completion.texts())
    completion.close()
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 2)
    assert made.transport is not None and made.transport.open_connections == 0


def test_pool_size_caps_open_connections(upstream: FakeUpstream, backend: MakeBackend) -> None:
    upstream.script = Script(tokens=["a"] * 50, interval=0.02)
    made = backend(upstream, upstream_pool_size=2)
    first, second = made.open(REQ), made.open(REQ)
    opened: list[Any] = []
    waiter = threading.Thread(target=lambda: opened.append(made.open(REQ)), daemon=True)
    waiter.start()
    waiter.join(0.5)
    assert not opened  # the third waits for a free connection
    first.close()
    waiter.join(5)
    assert len(opened) == 1
    assert made.transport is not None and made.transport.open_connections == 2
    for completion in (second, *opened):
        completion.close()


def test_silence_gives_idle_ticks_then_times_out(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    upstream.script = Script(tokens=["a", "b"], silence_after=1)
    made = backend(upstream, upstream_read_timeout_seconds=1.0)
    completion = made.open(REQ)
    assert completion.idle_ticks
    got: list[str] = []
    started = time.monotonic()
    with pytest.raises(StreamFailure) as info:
        got.extend(completion.texts(0.2))
    completion.close()
    assert got[0] == "a" and set(got[1:]) == {""}
    assert 3 <= len(got) - 1 <= 6  # a tick every 0.2 s of the 1 s of silence
    assert info.value.code == "upstream_timeout"
    assert time.monotonic() - started < 3


def test_bodies_are_asked_for_uncompressed(upstream: FakeUpstream, backend: MakeBackend) -> None:
    upstream.script = Script(tokens=["a"])
    text(backend(upstream))
    assert upstream.headers[-1]["accept-encoding"] == "identity"


def test_a_proxy_in_the_environment_uses_httpx_transport(
    upstream: FakeUpstream,
    proxy: CuttableProxy,
    monkeypatch: pytest.MonkeyPatch,
    backend: MakeBackend,
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    # A forward proxy for http:// gets absolute-form requests; the fake upstream
    # accepts those, so a plain TCP relay stands in for the proxy.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    upstream.script = Script(tokens=["a", "b"])
    made = backend(upstream)
    assert made.transport is None
    completion = made.open(REQ)
    assert not completion.idle_ticks
    assert "".join(completion.texts()) == "ab"
    completion.close()
    assert proxy.connections == 1


@pytest.fixture
def tls_upstream() -> Iterator[tuple[FakeUpstream, trustme.CA]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = FakeUpstream(tls=context).start()
    yield server, ca
    server.stop()


def test_tls_upstream_is_verified_and_streams(
    tls_upstream: tuple[FakeUpstream, trustme.CA],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    backend: MakeBackend,
) -> None:
    server, ca = tls_upstream
    server.script = Script(tokens=["안녕", " TLS"])
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # how a private CA is trusted
    made = backend(server)
    assert made.transport is not None
    assert [text(made) for _ in range(2)] == ["안녕 TLS"] * 2
    assert made.transport.open_connections == 1  # kept alive over TLS too


def test_tls_certificate_not_trusted_is_refused(
    tls_upstream: tuple[FakeUpstream, trustme.CA],
    monkeypatch: pytest.MonkeyPatch,
    backend: MakeBackend,
) -> None:
    server, _ = tls_upstream
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    made = backend(server)
    with pytest.raises(UpstreamError) as info:
        made.open(REQ)
    assert info.value.code == "upstream_unreachable"
    assert server.total_streams == 0


def test_duplicated_billed_generation_a_sent_request_is_never_resent(
    upstream: FakeUpstream, proxy: CuttableProxy, backend: MakeBackend
) -> None:
    """Regression: a read error on a reused connection re-sent the whole POST.

    The upstream had the request (and may be generating, and billing, already);
    only the SDK's own `max_retries` (0 here) may decide to send it again.
    """
    upstream.script = Script(tokens=["a"])
    made = backend(upstream, **through(proxy))
    text(made)  # leaves one kept-alive connection
    upstream.script = Script(hang_up=True)  # reads the next request, then closes
    with pytest.raises(UpstreamError) as info:
        made.open(REQ)
    assert info.value.code == "upstream_unreachable"
    assert len(upstream.requests) == 2  # once each: the second was not sent again
    assert proxy.connections == 1


def test_a_connection_the_server_closed_while_idle_is_never_written_to(
    upstream: FakeUpstream, proxy: CuttableProxy, backend: MakeBackend
) -> None:
    """Checked before reuse, as httpcore does: a dead idle connection is replaced."""
    upstream.script = Script(tokens=["a"], close_after=True)
    made = backend(upstream, **through(proxy))
    assert text(made) == "a"
    time.sleep(0.05)  # the server's FIN arrives on the idle connection
    upstream.script = Script(tokens=["b"])
    assert text(made) == "b"
    assert proxy.connections == 2
    assert len(upstream.requests) == 2


def test_first_byte_deadline_bounds_the_wait_retries_included(
    upstream: FakeUpstream, backend: MakeBackend
) -> None:
    """Regression: a frozen upstream was answered after (retries + 1) read timeouts.

    With a 0.6 s read timeout and two SDK retries, the old wait was three timeouts
    plus the SDK's backoff (about 2.5 s); the deadline ends it at 1 s.
    """
    upstream.script = Script(header_delay=30)
    made = backend(
        upstream,
        openai_max_retries=2,
        upstream_read_timeout_seconds=0.6,
        upstream_first_byte_seconds=1.0,
    )
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        made.open(REQ)
    waited = time.monotonic() - started
    assert info.value.code == "upstream_timeout" and info.value.status == 504
    # Without the bound: three 0.6 s timeouts and the SDK's backoff, about 2.5 s or more.
    assert 0.9 <= waited < 2.2, waited
    assert 1 <= len(upstream.requests) <= 2  # a retry only if it began before the deadline


@pytest.mark.parametrize("where", ["lookup", "socket"])
def test_out_of_descriptors_in_the_address_lookup_is_server_busy_not_unreachable(
    upstream: FakeUpstream, backend: MakeBackend, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Regression: out of descriptors, gevent's resolver raised EMFILE from the lookup,
    which reached the candidate as 502 `upstream_unreachable` (seen once in CI's
    descriptor-exhaustion test); the socket's own EMFILE was already `server_busy`."""
    import errno

    def exhausted(*_: Any, **__: Any) -> Any:
        raise OSError(errno.EMFILE, "Too many open files")

    target = "getaddrinfo" if where == "lookup" else "socket"
    monkeypatch.setattr(transport.socket, target, exhausted)
    with pytest.raises(UpstreamError) as info:
        backend(upstream).open(REQ)
    assert info.value.code == "server_busy" and info.value.status == 503
    assert upstream.requests == []
    monkeypatch.undo()
    upstream.script = Script(tokens=["back"])
    assert text(backend(upstream)) == "back"  # nothing cached from the failure
