"""A model that is slow to start, stalls, or writes out of sight never silences a stream
(issue 31, items 1 and 2): through the Procfile's gunicorn + gevent and the real SDK
against the local upstream, the reader gets headers, `retry:` and a ping every
`SSE_HEARTBEAT_SECONDS` at once, whatever the rubric mode; a reader who leaves while the
model writes its hidden rubric is noticed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.helpers import sse_client
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.rubrics import model_rubric
from tests.helpers.server import Server

BODY = json.dumps({"question": "Tell me about a time you led a team.",
                   "answer": "I led the migration and we cut costs by 30%."})  # fmt: skip


@pytest.fixture(scope="module", params=["inline", "model", "off"])
def served(request: pytest.FixtureRequest, upstream_server: FakeUpstream) -> Iterator[Server]:
    srv = Server(relay_env(upstream_server, RUBRIC=request.param, SSE_HEARTBEAT_SECONDS="1",
                           LOG_JSON="false"))  # fmt: skip
    yield srv
    srv.stop()


def _timeline(server: Server, seconds: float) -> tuple[float, list[tuple[float, bytes]]]:
    """When the headers came, and each chunk of the body with its time, for `seconds`."""
    conn = server.connection(60)
    began = time.monotonic()
    conn.request("POST", "/api/feedback", BODY, {"Content-Type": "application/json"})
    response = conn.getresponse()
    headers = time.monotonic() - began
    assert response.status == 200
    chunks: list[tuple[float, bytes]] = []
    while time.monotonic() - began < seconds:
        chunk = response.read1(65536)
        if not chunk:
            break
        chunks.append((time.monotonic() - began, chunk))
    conn.close()
    return headers, chunks


def _pings_before(chunks: list[tuple[float, bytes]], until: float) -> int:
    return sum(c.count(b": ping") for t, c in chunks if t < until)


def test_a_model_that_sends_its_headers_with_its_first_token_still_gets_pings(
    served: Server, upstream: FakeUpstream
) -> None:
    # llama-cpp-python's server reads the first token before it answers: headers late.
    upstream.script = Script(header_delay=4.5, completion=model_rubric())
    headers, chunks = _timeline(served, 8)
    assert headers < 2.0, f"no headers for {headers:.1f} s"
    assert chunks[0][1].startswith(b"retry:")
    assert _pings_before(chunks, 4.5) >= 2, chunks
    assert b"event: done" in b"".join(c for _, c in chunks)


def test_a_model_silent_before_its_first_token_still_gets_pings(
    served: Server, upstream: FakeUpstream
) -> None:
    upstream.script = Script(first_delay=4.5, completion=model_rubric())
    headers, chunks = _timeline(served, 8)
    assert headers < 2.0
    assert _pings_before(chunks, 4.5) >= 2, chunks


def test_a_model_that_stalls_after_two_tokens_still_gets_pings(
    served: Server, upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["Good", " start", ".", " More"], interval=2.5,
                             completion=model_rubric())  # fmt: skip
    _, chunks = _timeline(served, 10)
    text = b"".join(c for _, c in chunks)
    assert text.count(b": ping") >= 3, text  # one a second between tokens 2.5 s apart
    assert b"event: done" in text


def test_a_model_that_sends_only_comments_still_gets_pings(
    served: Server, upstream: FakeUpstream
) -> None:
    delta = {"choices": [{"index": 0, "delta": {"content": "Fine."}, "finish_reason": None}]}
    end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    upstream.script = Script(
        raw=[b": keep-alive\n\n"] * 8
        + [f"data: {json.dumps(delta)}\n\n".encode(), f"data: {json.dumps(end)}\n\n".encode(),
           b"data: [DONE]\n\n"],
        interval=0.5,
        completion=model_rubric(),
    )  # fmt: skip
    _, chunks = _timeline(served, 8)
    assert _pings_before(chunks, 4.0) >= 2, chunks


def test_hidden_rubric_writing_sends_pings_and_notices_a_reader_who_left(
    upstream_server: FakeUpstream, upstream: FakeUpstream
) -> None:
    srv = Server(relay_env(upstream_server, RUBRIC="inline", SSE_HEARTBEAT_SECONDS="1"))
    try:
        # A rubric written slowly, 40 characters every 0.6 s: about 6 s out of sight.
        upstream.script = Script(tokens=["Good", " answer", "."], completion=model_rubric(),
                                 tail_interval=0.6)  # fmt: skip
        _, chunks = _timeline(srv, 15)
        events = sse_client.parse(b"".join(c for _, c in chunks))
        shown = "".join(e.json()["text"] for e in events if e.event == "message" and e.data)
        assert shown == "Good answer."
        last_text = max(t for t, c in chunks if b'"text"' in c)
        assert _pings_before(chunks, 99) - _pings_before(chunks, last_text) >= 3, chunks
        assert events[-1].event == "done"

        # A reader who leaves while it is written: noticed at the next ping, upstream closed.
        before = upstream.client_disconnects
        conn = srv.connection(30)
        conn.request("POST", "/api/feedback", BODY, {"Content-Type": "application/json"})
        response = conn.getresponse()
        got = b""
        while b"answer" not in got:
            got += response.read1(65536)
        conn.close()
        assert upstream.wait_for(lambda: upstream.client_disconnects > before, 5)
        time.sleep(0.5)
    finally:
        srv.stop()
    lines = [json.loads(line) for line in srv.output().splitlines() if line.startswith("{")]
    outcomes = [line.get("outcome") for line in lines if line.get("path") == "/api/feedback"]
    assert outcomes == ["done", "client_left"], outcomes
