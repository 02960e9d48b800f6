"""Graceful shutdown through the real Procfile command: SIGTERM, drain, exit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from tests.helpers import sse_client
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server


def env(upstream: FakeUpstream, **extra: str) -> dict[str, str]:
    return relay_env(upstream, SSE_HEARTBEAT_SECONDS="1", SHUTDOWN_DRAIN_SECONDS="1.5", **extra)


class Reader(threading.Thread):
    """Reads one SSE response to its end in the background."""

    def __init__(
        self,
        server: Server,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.server, self.method, self.path = server, method, path
        self.headers, self.body = headers or {}, body
        self.data = b""
        self.first = threading.Event()
        self.start()

    def run(self) -> None:
        conn = self.server.connection(timeout=40)
        conn.request(self.method, self.path, body=self.body, headers=self.headers)
        response = conn.getresponse()
        while chunk := response.read1(65536):
            self.data += chunk
            if b'"text"' in self.data:
                self.first.set()
        conn.close()

    def events(self) -> list[sse_client.Event]:
        return sse_client.messages(self.data)


def create(server: Server, question: str = "Why?") -> str:
    conn = server.connection()
    conn.request(
        "POST",
        "/api/streams",
        body=json.dumps({"kind": "answer", "question": question}),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 201, response.read()
    url = str(json.loads(response.read())["url"])
    conn.close()
    return url


def test_sigterm_lets_short_streams_finish_and_ends_long_ones(upstream: FakeUpstream) -> None:
    server = Server(env(upstream))
    upstream.script = Script(tokens=["x"] * 1000, interval=0.05)
    long = Reader(
        server, "POST", "/api/answer", {"Content-Type": "application/json"}, '{"question": "q"}'
    )
    assert long.first.wait(10)
    upstream.script = Script(tokens=["y"] * 10, interval=0.1)
    short = Reader(
        server, "POST", "/api/answer", {"Content-Type": "application/json"}, '{"question": "q"}'
    )
    assert short.first.wait(10)
    began = time.monotonic()
    code = server.stop()
    took = time.monotonic() - began
    long.join(10)
    short.join(10)
    assert code == 0
    assert took < 25
    assert short.events()[-1].event == "done"
    assert sse_client.text_of(short.data) == "y" * 10
    last = long.events()[-1]
    assert last.event == "error"
    assert last.json() == {
        "code": "server_restarting",
        "message": "The server is restarting. Reconnect or try again in a moment.",
        "retryable": True,
        "retry_after": 5,
    }
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 5)
    assert "Worker graceful timeout" not in server.output()


@pytest.fixture
def pair(upstream: FakeUpstream, redis_url: str) -> Iterator[tuple[Server, Server]]:
    a = Server(env(upstream, REDIS_URL=redis_url, WEB_CONCURRENCY="1"))
    b = Server(env(upstream, REDIS_URL=redis_url, WEB_CONCURRENCY="1"))
    yield a, b
    a.stop()
    b.stop()
    for srv in (a, b):
        assert "Traceback" not in srv.output(), srv.output()


def test_with_redis_a_reader_resumes_on_another_instance_after_sigterm(
    pair: tuple[Server, Server], upstream: FakeUpstream
) -> None:
    a, b = pair
    tokens = [f"{i} " for i in range(1000)]
    upstream.script = Script(tokens=tokens, interval=0.05)
    url = create(a)
    on_a = Reader(a, "GET", url)
    assert on_a.first.wait(10)
    a.stop()
    on_a.join(10)
    seen = on_a.events()
    # The network dropped somewhere before the end: resume from an early id.
    resume_from = seen[len(seen) // 2].id or "0"
    on_b = Reader(b, "GET", url, {"Last-Event-ID": resume_from})
    on_b.join(15)
    rest = on_b.events()
    assert [int(e.id or 0) for e in rest] == list(range(int(resume_from) + 1, len(seen) + 1))
    assert rest[-1].json()["code"] == "server_restarting"
    assert upstream.total_streams == 1


def test_with_redis_a_draining_instance_hands_its_readers_over(
    pair: tuple[Server, Server], upstream: FakeUpstream
) -> None:
    a, b = pair
    tokens = [f"{i} " for i in range(60)]
    upstream.script = Script(tokens=tokens, interval=0.05)
    url = create(b)  # generated on b, read on a
    on_a = Reader(a, "GET", url)
    assert on_a.first.wait(10)
    a.stop()
    on_a.join(10)
    seen = on_a.events()
    assert seen and all(e.event == "message" for e in seen)  # no false ending
    on_b = Reader(b, "GET", url, {"Last-Event-ID": seen[-1].id or "0"})
    on_b.join(15)
    assert sse_client.text_of(on_a.data) + sse_client.text_of(on_b.data) == "".join(tokens)
    assert on_b.events()[-1].event == "done"
    assert upstream.total_streams == 1
