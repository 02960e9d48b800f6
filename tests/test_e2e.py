"""End to end: the Procfile command (gunicorn + gevent), real HTTP on both sides."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.helpers import sse_client
from tests.helpers.env import API_KEY, relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server

Q = json.dumps({"question": "Tell me about a time you failed."})


@pytest.fixture(scope="module")
def server(upstream_server: FakeUpstream) -> Iterator[Server]:
    srv = Server(
        relay_env(upstream_server, SSE_HEARTBEAT_SECONDS="0.2", UPSTREAM_READ_TIMEOUT_SECONDS="3")
    )
    yield srv
    srv.stop()
    log = srv.output()
    assert "MonkeyPatchWarning" not in log, log
    assert "Traceback" not in log, log
    assert API_KEY not in log
    assert "not gevent" not in log  # the Procfile's gevent worker is not warned about


def post(server: Server, path: str, body: str) -> tuple[int, dict[str, str], bytes]:
    conn = server.connection()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return response.status, headers, data


def test_stream_through_gunicorn(server: Server, upstream: FakeUpstream) -> None:
    tokens = ["안녕하세요", "\n\n", "data: x", "\r", "😀"]
    upstream.script = Script(tokens=tokens, interval=0.01)
    status, headers, body = post(server, "/api/answer", Q)
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers
    assert sse_client.text_of(body) == "".join(tokens)
    assert sse_client.messages(body)[-1].event == "done"


def test_json_errors_through_gunicorn(server: Server, upstream: FakeUpstream) -> None:
    status, headers, body = post(server, "/api/answer", "{")
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"
    upstream.script = Script(status=429, retry_after="3")
    status, headers, body = post(server, "/api/answer", Q)
    assert status == 503 and headers["retry-after"] == "3"


def test_several_hundred_streams_at_once(server: Server, upstream: FakeUpstream) -> None:
    count = 300
    tokens = [f"t{i} " for i in range(20)]
    upstream.script = Script(tokens=tokens, interval=0.05)
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def one() -> None:
        try:
            start.wait(30)
            status, _, body = post(server, "/api/answer", Q)
            assert status == 200, body
            events = sse_client.messages(body)
            assert events[-1].event == "done"
            results.append(sse_client.text_of(body))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert results == ["".join(tokens)] * count


def test_client_leaving_closes_the_upstream(server: Server, upstream: FakeUpstream) -> None:
    upstream.script = Script(tokens=["x"] * 500, interval=0.02)
    sock = socket.create_connection(("127.0.0.1", server.port))
    body = Q.encode()
    sock.sendall(
        b"POST /api/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    received = b""
    while b'data: {"text"' not in received:
        received += sock.recv(4096)
    assert upstream.open_streams == 1
    sock.close()
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 3)
    assert upstream.client_disconnects == 1
    assert upstream.tokens_sent < 500


def test_heartbeats_while_upstream_is_silent(server: Server, upstream: FakeUpstream) -> None:
    upstream.script = Script(tokens=["a", "b"], silence_after=1)
    status, _, body = post(server, "/api/answer", Q)
    blocks = sse_client.parse(body)
    assert sum(b.comments == ["ping"] for b in blocks) >= 5
    assert blocks[-1].event == "error" and blocks[-1].json()["code"] == "upstream_timeout"


def test_metrics_through_gunicorn_multiprocess(server: Server, upstream: FakeUpstream) -> None:
    upstream.script = Script(tokens=["a", "b"])
    post(server, "/api/answer", Q)
    conn = server.connection()
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    assert 'interview_app_streams_finished_total{outcome="done"}' in text
    assert "interview_app_time_to_first_token_seconds_bucket" in text


def test_unreachable_upstream_is_502_within_seconds() -> None:
    import time

    from tests.helpers.server import free_port

    srv = Server(
        {
            "OPENAI_API_KEY": API_KEY,
            "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "OPENAI_MAX_RETRIES": "0",
            "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "2",
        }
    )
    try:
        began = time.monotonic()
        status, headers, body = post(srv, "/api/answer", Q)
        assert time.monotonic() - began < 5
        assert status == 502
        assert json.loads(body)["error"]["code"] == "upstream_unreachable"
        assert headers["content-type"] == "application/json"
    finally:
        srv.stop()
    assert API_KEY not in srv.output()


def _request_lines(server: Server, request_id: str) -> list[dict[str, object]]:
    lines = []
    for line in server.output().splitlines():
        if line.startswith("{") and request_id in line:
            record = json.loads(line)
            if record.get("message") == "request" and record.get("request_id") == request_id:
                lines.append(record)
    return lines


def test_a_stream_is_logged_once_when_it_ends_through_gunicorn(
    server: Server, upstream: FakeUpstream
) -> None:
    """The log line of a 1 s stream says about 1 s, not the moment its headers went out."""
    upstream.script = Script(tokens=["a"] * 5, interval=0.25)
    conn = server.connection()
    conn.request(
        "POST",
        "/api/answer",
        body=Q,
        headers={"Content-Type": "application/json", "X-Request-ID": "e2e-log-line-1"},
    )
    response = conn.getresponse()
    assert response.getheader("X-Request-ID") == "e2e-log-line-1"
    response.read()
    conn.close()
    assert upstream.wait_for(lambda: len(_request_lines(server, "e2e-log-line-1")) == 1)
    time.sleep(0.2)  # a second line would come now
    [line] = _request_lines(server, "e2e-log-line-1")
    assert line["outcome"] == "done" and line["events"] == 5 and line["status"] == 200
    assert float(str(line["ms"])) >= 900
    assert 0 < float(str(line["ttft_ms"])) < float(str(line["ms"]))


@pytest.mark.parametrize(
    ("worker", "app"), [("sync", "wsgi:app"), ("gthread", "tests.helpers.host:app")]
)
def test_a_sync_worker_is_warned_about_once_at_start(
    upstream_server: FakeUpstream, worker: str, app: str
) -> None:
    """SSE under gunicorn's sync or gthread worker holds a worker per stream: one clear
    warning, for our app alone and for a host app with `Coach` in it."""
    import os
    import subprocess
    import sys

    from tests.helpers.server import ROOT, free_port

    port = free_port()
    env = {
        **os.environ,
        **relay_env(upstream_server),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    process = subprocess.Popen(
        ["gunicorn", "-k", worker, "-w", "1", "-b", f"127.0.0.1:{port}", app],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if '"message": "ready"' in line:
                break
    finally:
        process.terminate()
        process.communicate(timeout=30)
    warnings = [line for line in lines if "not gevent" in line]
    assert len(warnings) == 1 and "gunicorn -k gevent" in warnings[0]
