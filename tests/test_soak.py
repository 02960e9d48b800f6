"""Soak: 1,200 streams through gunicorn + gevent, a third of the readers vanishing.

Afterwards nothing is left behind: no upstream stream, and the worker's file
descriptors and threads are back where they started and no generator greenlet runs.
"""

from __future__ import annotations

import json
import random
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server

STREAMS = 1200
AT_ONCE = 150


@pytest.fixture(scope="module")
def server(upstream_server: FakeUpstream) -> Iterator[Server]:
    srv = Server(relay_env(upstream_server, SSE_HEARTBEAT_SECONDS="0.5", STREAM_GRACE_SECONDS="1"))
    yield srv
    srv.stop()


def gauges(server: Server) -> dict[str, float]:
    conn = server.connection()
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    found = {}
    for name in ("open_fds", "threads"):
        match = re.search(rf"^interview_app_{name}\{{[^}}]*\}} ([0-9.e+]+)$", text, re.MULTILINE)
        assert match, name
        found[name] = float(match.group(1))
    for name in ("streams_active", "producers"):
        match = re.search(rf"^interview_app_{name} (\S+)$", text, re.MULTILINE)
        found[name] = float(match.group(1)) if match else -1
    return found


def one(server: Server, seed: int) -> str:
    rng = random.Random(seed)
    stored = rng.random() < 0.5
    leave_after = rng.choice([None, None, 0, 1, 3])  # events to read before vanishing
    body = json.dumps({"kind": "answer", "question": f"q{seed}"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        if stored:
            sock.sendall(
                b"POST /api/streams HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%b" % (len(body), body)
            )
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            url = json.loads(reply.split(b"\r\n\r\n", 1)[1])["url"]
            sock2 = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock2.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        else:
            sock2 = sock
            sock.sendall(
                b"POST /api/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
            )
        with sock2:
            data = b""
            while True:
                chunk = sock2.recv(65536)
                if not chunk:
                    return "closed: " + data[-200:].decode(errors="replace")
                data += chunk
                count = data.count(b"\nid: ") + data.count(b"\r\n\r\nid: ")
                if leave_after is not None and count >= leave_after:
                    if rng.random() < 0.5:  # vanish hard (RST) or politely (FIN)
                        sock2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    return "left"
                if b"event: done" in data:
                    return "done"


def test_soak_leaves_nothing_behind(server: Server, upstream: FakeUpstream) -> None:
    upstream.script = Script(tokens=[f"{i} " for i in range(20)], interval=0.03)
    one(server, -1)  # warm up: imports, pools, first greenlets
    time.sleep(0.5)
    baseline = gauges(server)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        outcomes = list(pool.map(lambda i: one(server, i), range(STREAMS)))
    assert outcomes.count("done") > STREAMS // 3
    assert outcomes.count("left") > STREAMS // 4
    closed = [o for o in outcomes if o.startswith("closed")]
    assert not closed, closed[:3]
    # Stored streams whose reader vanished are released after the grace period.
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 20)
    # Idle keep-alive connections to the upstream are closed 5 s after their last use.
    time.sleep(5.5)
    deadline = time.monotonic() + 20
    while True:
        now = gauges(server)
        settled = (
            now["streams_active"] == 0
            and now["producers"] == 0
            and now["open_fds"] <= baseline["open_fds"] + 5
            and now["threads"] <= baseline["threads"] + 2
        )
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert settled, (baseline, now)
    assert "Traceback" not in server.output()
