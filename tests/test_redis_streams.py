"""Streams shared through a real Redis: any instance serves and resumes any stream."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from flask.testing import FlaskClient

from tests.helpers import sse_client
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.redis_server import RedisServer
from tests.helpers.streams import BODY, create, read_some


def test_created_on_one_instance_read_and_resumed_on_another(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    a, b = make_client(redis_url=redis_url), make_client(redis_url=redis_url)
    tokens = [f"{i}\n" for i in range(30)]
    upstream.script = Script(tokens=tokens, interval=0.02)
    url = create(a)
    seen = read_some(b, url, 4)
    last_id = sse_client.messages(seen)[-1].id or ""
    rest = a.get(url, headers={"Last-Event-ID": last_id}).get_data()
    events = sse_client.messages(seen) + sse_client.messages(rest)
    assert [int(e.id or 0) for e in events] == list(range(1, len(tokens) + 2))
    assert sse_client.text_of(seen) + sse_client.text_of(rest) == "".join(tokens)
    assert events[-1].event == "done"
    assert upstream.total_streams == 1
    done_id = events[-1].id or ""
    assert b.get(url, headers={"Last-Event-ID": done_id}).status_code == 204


def test_frames_from_redis_are_byte_identical_to_memory(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    upstream.script = Script(tokens=["a\r\n", "é😀", "data: x"])
    memory = make_client()
    shared = make_client(redis_url=redis_url)
    from_memory = memory.get(create(memory)).get_data()
    from_redis = shared.get(create(shared)).get_data()
    assert from_memory == from_redis


def test_delete_on_another_instance_closes_the_upstream(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    a, b = make_client(redis_url=redis_url), make_client(redis_url=redis_url)
    upstream.script = Script(tokens=["x"] * 500, interval=0.02)
    url = create(a)
    assert upstream.wait_for(lambda: upstream.tokens_sent > 2)
    assert b.delete(url).status_code == 204
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 3)
    events = sse_client.messages(b.get(url).get_data())
    assert events[-1].event == "error" and events[-1].json()["code"] == "cancelled"
    assert sum(e.event in ("done", "error") for e in events) == 1


def test_unread_stream_is_abandoned_after_grace(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    client = make_client(redis_url=redis_url, stream_grace_seconds=0.3)
    upstream.script = Script(tokens=["x"] * 500, interval=0.02)
    url = create(client)
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 3)
    events = sse_client.messages(client.get(url).get_data())
    assert events[-1].json()["code"] == "stream_abandoned"


def test_redis_restarted_empty_is_404_on_the_instance_that_generated_it(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    # CI saw a 200: an instance kept its own ended generation until its janitor's next sweep
    # (every grace / 4 seconds, so a long grace keeps that window open for this test).
    client = make_client(redis_url=redis_url, stream_grace_seconds=60)
    store = client.application.extensions["interview_app"].store
    upstream.script = Script(tokens=["a", "b"])
    url = create(client)
    assert sse_client.messages(client.get(url).get_data())[-1].event == "done"
    assert upstream.wait_for(lambda: not any(s.producing for s in store.running()), 5)
    redis.Redis.from_url(redis_url).flushall()  # what a restart without persistence leaves
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def test_unknown_stream_is_404(make_client: Callable[..., FlaskClient], redis_url: str) -> None:
    response = make_client(redis_url=redis_url).get("/api/streams/nope")
    assert response.status_code == 404


def test_redis_down_at_start_gives_clear_errors_then_recovers(
    make_client: Callable[..., FlaskClient],
    upstream: FakeUpstream,
    redis_server: RedisServer,
    redis_url: str,
) -> None:
    redis_server.stop()
    client = make_client(redis_url=redis_url, rate_limit_per_minute=20)
    began = time.monotonic()
    response = client.post("/api/streams", json=BODY)
    assert time.monotonic() - began < 10  # no hang
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "store_unavailable"
    assert response.headers["Retry-After"]
    assert client.get("/api/streams/anything").status_code == 503
    assert upstream.total_streams == 0
    redis_server.start()
    url = create(client)
    assert sse_client.messages(client.get(url).get_data())[-1].event == "done"


def test_redis_down_mid_stream_ends_with_an_error_and_frees_the_upstream(
    make_client: Callable[..., FlaskClient],
    upstream: FakeUpstream,
    redis_server: RedisServer,
    redis_url: str,
) -> None:
    client = make_client(redis_url=redis_url)
    upstream.script = Script(tokens=["x"] * 500, interval=0.02)
    url = create(client)
    response = client.get(url, buffered=False)
    chunks = iter(response.response)
    seen = b""
    while not sse_client.messages(seen):
        seen += next(chunks)
    redis_server.stop()
    rest = b"".join(chunks)
    last = sse_client.messages(seen + rest)[-1]
    assert last.event == "error" and last.json()["code"] == "store_unavailable"
    assert last.json()["retryable"] is True
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 5)
    redis_server.start()
    upstream.script = Script(tokens=["back"])
    assert sse_client.text_of(client.get(create(client)).get_data()) == "back"


def test_store_down_spends_no_upstream_request(
    make_client: Callable[..., FlaskClient],
    upstream: FakeUpstream,
    redis_server: RedisServer,
    redis_url: str,
) -> None:
    client = make_client(redis_url=redis_url)  # limits off: nothing else touches Redis first
    redis_server.stop()
    response = client.post("/api/streams", json=BODY)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "store_unavailable"
    assert upstream.requests == []


def _keys_without_ttl(redis_url: str) -> list[bytes]:
    import redis

    client = redis.Redis.from_url(redis_url)
    return [key for key in client.scan_iter("ia:*") if client.ttl(key) == -1]


def test_redis_keys_that_never_expire_none_while_running(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    """Regression: a running stream's events key had no TTL until its final event."""
    client = make_client(redis_url=redis_url, rate_limit_per_minute=5, max_streams_per_client=3)
    upstream.script = Script(tokens=["x"] * 200, interval=0.02)
    url = create(client)
    assert upstream.wait_for(lambda: upstream.tokens_sent > 3)
    read_some(client, url, 3)  # a reader attaches and detaches
    assert _keys_without_ttl(redis_url) == []
    client.delete(url)
    assert upstream.wait_for(lambda: upstream.open_streams == 0, 3)
    assert _keys_without_ttl(redis_url) == []


def test_redis_keys_that_never_expire_reader_after_expiry(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    """Regression: attach/detach re-created an expired meta key with no TTL."""
    import redis

    client = make_client(redis_url=redis_url)
    upstream.script = Script(tokens=["x"] * 200, interval=0.05)
    url = create(client)
    stream = client.application.extensions["interview_app"].store.get(url.rsplit("/", 1)[1])
    raw = redis.Redis.from_url(redis_url)
    raw.delete(stream.meta_key)  # as if it had expired under a reader
    stream.attach()
    stream.detach()
    assert not raw.exists(stream.meta_key)
    assert _keys_without_ttl(redis_url) == []
    client.delete(url)
