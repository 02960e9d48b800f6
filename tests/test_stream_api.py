"""`POST /api/streams` + `GET /api/streams/<id>`: EventSource's flow, with resume."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.helpers import sse_client
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.streams import BODY, create, read_some


def test_create_then_read(client: FlaskClient, upstream: FakeUpstream) -> None:
    upstream.script = Script(tokens=["a\n", "b"])
    response = client.get(create(client))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data()
    assert sse_client.text_of(body) == "a\nb"
    events = sse_client.messages(body)
    assert [e.id for e in events] == ["1", "2", "3"] and events[-1].event == "done"
    assert "answer" in upstream.requests[-1]["messages"][1]["content"]


def test_resume_gets_exactly_the_missed_events_with_one_upstream_request(
    client: FlaskClient, upstream: FakeUpstream
) -> None:
    tokens = [f"{i}," for i in range(30)]
    upstream.script = Script(tokens=tokens, interval=0.02)
    url = create(client)
    seen = read_some(client, url, 5)  # then the network drops
    last_id = sse_client.messages(seen)[-1].id
    rest = client.get(url, headers={"Last-Event-ID": last_id}).get_data()
    ids = [int(e.id or 0) for e in sse_client.messages(seen) + sse_client.messages(rest)]
    assert ids == list(range(1, len(tokens) + 2))
    assert sse_client.text_of(seen) + sse_client.text_of(rest) == "".join(tokens)
    assert upstream.total_streams == 1
    # Seen everything: 204 tells EventSource to stop reconnecting.
    done_id = sse_client.messages(rest)[-1].id
    again = client.get(url, headers={"Last-Event-ID": done_id})
    assert again.status_code == 204 and again.get_data() == b""


def test_reader_may_start_late_and_gets_everything(
    client: FlaskClient, upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["x", "y"])
    url = create(client)
    assert upstream.wait_for(lambda: upstream.open_streams == 0)
    assert sse_client.text_of(client.get(url).get_data()) == "xy"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": "q"}, 400, "invalid_field"),
        ({"kind": "poem", "question": "q"}, 400, "invalid_field"),
        ({"kind": "answer"}, 400, "missing_field"),
        ({"kind": "feedback", "question": "q"}, 400, "missing_field"),
    ],
)
def test_create_validates_like_the_direct_endpoints(
    client: FlaskClient, upstream: FakeUpstream, body: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/api/streams", json=body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert upstream.total_streams == 0


def test_create_reports_upstream_failure_as_a_status(
    client: FlaskClient, upstream: FakeUpstream
) -> None:
    upstream.script = Script(status=429, retry_after="4")
    response = client.post("/api/streams", json=BODY)
    assert response.status_code == 503 and response.headers["Retry-After"] == "4"


def test_unknown_stream_is_404_json(client: FlaskClient) -> None:
    response = client.get("/api/streams/not-a-real-id")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "stream_not_found"


def test_bad_last_event_id_is_400(client: FlaskClient, upstream: FakeUpstream) -> None:
    url = create(client)
    response = client.get(url, headers={"Last-Event-ID": "abc"})
    assert response.status_code == 400
    client.get(url).get_data()


def test_unread_stream_is_abandoned_after_grace(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["x"] * 500, interval=0.02)
    client = make_client(stream_grace_seconds=0.3)
    url = create(client)
    assert upstream.wait_for(lambda: upstream.client_disconnects == 1, 3)
    assert upstream.open_streams == 0
    events = sse_client.messages(client.get(url).get_data())
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "stream_abandoned"
    assert sum(e.event in ("done", "error") for e in events) == 1


def test_a_reader_that_leaves_does_not_stop_generation_before_grace(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    upstream.script = Script(tokens=["x"] * 20, interval=0.01)
    client = make_client(stream_grace_seconds=5)
    url = create(client)
    first = client.get(url, buffered=False)
    next(first.response)
    first.close()
    body = client.get(url).get_data()
    assert sse_client.text_of(body) == "x" * 20
    assert sse_client.messages(body)[-1].event == "done"
