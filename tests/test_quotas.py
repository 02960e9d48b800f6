"""Rate limits, per-client concurrency, per-worker capacity, and who the client is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.helpers.fakes import FakeUpstream, Script

BODY = {"kind": "answer", "question": "Why?"}


def status(client: FlaskClient, path: str, **kwargs: object) -> int:
    """POST and read the whole answer, so no stream is left half-open."""
    response = client.post(path, json=BODY, **kwargs)  # type: ignore[arg-type]
    response.get_data()
    return response.status_code


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


def test_rate_limit_is_429_with_retry_after(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, store: str | None
) -> None:
    client = make_client(redis_url=store, rate_limit_per_minute=3)
    for _ in range(3):
        assert status(client, "/api/answer") == 200
    response = client.post("/api/streams", json=BODY)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert upstream.total_streams == 3


def test_rate_limit_is_shared_by_instances_through_redis(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, redis_url: str
) -> None:
    a = make_client(redis_url=redis_url, rate_limit_per_minute=2)
    b = make_client(redis_url=redis_url, rate_limit_per_minute=2)
    assert status(a, "/api/answer") == 200
    assert status(b, "/api/answer") == 200
    assert status(a, "/api/answer") == 429


def test_bad_requests_do_not_spend_the_quota(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(rate_limit_per_minute=1)
    for _ in range(5):
        assert client.post("/api/answer", json={}).status_code == 400
    assert status(client, "/api/answer") == 200


def test_concurrent_streams_per_client(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, store: str | None
) -> None:
    client = make_client(redis_url=store, max_streams_per_client=2)
    upstream.script = Script(tokens=["x"] * 200, interval=0.02)
    urls = [client.post("/api/streams", json=BODY).get_json()["url"] for _ in range(2)]
    third = client.post("/api/streams", json=BODY)
    assert third.status_code == 429
    assert third.get_json()["error"]["code"] == "too_many_streams"
    assert third.headers["Retry-After"]
    assert client.delete(urls[0]).status_code == 204  # one ends: a slot frees up
    quotas = client.application.extensions["interview_app"].quotas
    # The slot frees when the producer has wound down, a moment after the upstream closed.
    assert upstream.wait_for(lambda: len(quotas.active) == 1)
    fourth = client.post("/api/streams", json=BODY)
    assert fourth.status_code == 201
    for url in (urls[1], fourth.get_json()["url"]):
        client.delete(url)


def test_worker_capacity_is_503_not_slowness(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream
) -> None:
    client = make_client(max_streams_per_worker=1)
    upstream.script = Script(tokens=["x"] * 200, interval=0.02)
    url = client.post("/api/streams", json=BODY).get_json()["url"]
    busy = client.post("/api/answer", json=BODY)
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert busy.get_json()["error"]["code"] == "server_busy"
    client.delete(url)


@pytest.mark.parametrize(("trusted", "separate"), [(0, False), (1, True)])
def test_client_ip_comes_from_forwarded_for_only_through_trusted_proxies(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, trusted: int, separate: bool
) -> None:
    client = make_client(rate_limit_per_minute=1, trusted_proxies=trusted)
    assert status(client, "/api/answer", headers={"X-Forwarded-For": "203.0.113.1"}) == 200
    second = status(client, "/api/answer", headers={"X-Forwarded-For": "203.0.113.2"})
    assert (second == 200) is separate
    # A spoofed extra hop in front of the trusted one does not change who the client is.
    if trusted:
        spoofed = {"X-Forwarded-For": "198.51.100.7, 203.0.113.1"}
        assert status(client, "/api/answer", headers=spoofed) == 429


def test_a_refused_slot_spends_no_rate_token(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, store: str | None
) -> None:
    """Regression: a rate-limit token was spent even when the per-client slot was refused."""
    client = make_client(redis_url=store, max_streams_per_client=1, rate_limit_per_minute=2)
    upstream.script = Script(tokens=["x"] * 200, interval=0.02)
    url = client.post("/api/streams", json=BODY).get_json()["url"]
    for _ in range(5):
        refused = client.post("/api/streams", json=BODY)
        assert refused.get_json()["error"]["code"] == "too_many_streams"
    assert client.delete(url).status_code == 204
    quotas = client.application.extensions["interview_app"].quotas
    assert upstream.wait_for(lambda: not quotas.active)
    upstream.script = Script(tokens=["x"])
    assert status(client, "/api/answer") == 200  # the second of two tokens, not the seventh


def test_worker_capacity_holds_when_admissions_overlap(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    """Regression: the capacity check and its insert straddled a Redis round trip."""
    import threading
    import time

    import redis

    from interview_app.problems import Refused
    from interview_app.streaming.quotas import Quotas

    quotas = Quotas(
        per_minute=0,
        per_client=100,
        per_worker=3,
        redis_client=redis.Redis.from_url(redis_url),
        redis_url=redis_url,
    )
    slow = quotas._take_slot

    def take_slowly(client: str, ticket_id: str) -> bool:
        time.sleep(0.05)  # every admission is inside its Redis round trip at once
        return slow(client, ticket_id)

    monkeypatch.setattr(quotas, "_take_slot", take_slowly)
    admitted: list[object] = []
    refused: list[object] = []

    def admit(n: int) -> None:
        try:
            admitted.append(quotas.admit(f"client-{n}"))
        except Refused as exc:
            refused.append(exc.problem.code)

    threads = [threading.Thread(target=admit, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 3 and refused == ["server_busy"] * 7
    assert len(quotas.active) == 3
