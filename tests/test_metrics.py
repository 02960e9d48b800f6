"""/metrics in Prometheus format, and the request id."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.helpers.fakes import FakeUpstream, Script


def value(text: str, name: str) -> float:
    """The sample's value; a sample that is there but unreadable fails, never reads as 0."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_value_reads_negative_and_exponent_samples() -> None:
    assert value("g -1.0\n", "g") == -1.0
    assert value("g 1.5e+06\n", "g") == 1.5e6


def test_stream_metrics_count_up(client: FlaskClient, upstream: FakeUpstream) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    upstream.script = Script(tokens=["a", "b", "c"], interval=0.01)
    client.post("/api/answer", json={"question": "q"}).get_data()
    upstream.script = Script(status=429)
    client.post("/api/answer", json={"question": "q"})
    response = client.get("/metrics")
    assert response.mimetype == "text/plain"
    after = response.get_data(as_text=True)

    def delta(name: str) -> float:
        return value(after, name) - value(before, name)

    assert delta('interview_app_streams_started_total{backend="openai",kind="answer"}') == 1
    assert delta('interview_app_streams_finished_total{outcome="done"}') == 1
    assert delta("interview_app_tokens_relayed_total") >= 1
    assert delta('interview_app_upstream_errors_total{kind="upstream_busy"}') == 1
    assert delta("interview_app_time_to_first_token_seconds_count") == 1
    assert value(after, "interview_app_streams_active") == 0
    assert "interview_app_client_disconnects_total" in after
    assert "interview_app_open_fds" in after


def test_disconnects_are_counted(client: FlaskClient, upstream: FakeUpstream) -> None:
    before = value(
        client.get("/metrics").get_data(as_text=True), "interview_app_client_disconnects_total"
    )
    upstream.script = Script(tokens=["x"] * 100, interval=0.02)
    response = client.post("/api/answer", json={"question": "q"}, buffered=False)
    chunks = iter(response.response)
    next(chunks), next(chunks)
    response.close()
    after = value(
        client.get("/metrics").get_data(as_text=True), "interview_app_client_disconnects_total"
    )
    assert after - before == 1


def test_request_id_is_returned_and_kept_when_valid(client: FlaskClient) -> None:
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["X-Request-ID"] == "abc-123"
    bad = client.get("/healthz", headers={"X-Request-ID": 'x" y<script>'})
    assert bad.headers["X-Request-ID"] != 'x" y<script>'


@pytest.mark.parametrize("how", ["delete", "abandon"])
def test_metrics_label_stopped_streams_by_their_cause(
    make_client: Callable[..., FlaskClient], upstream: FakeUpstream, how: str
) -> None:
    """Regression: a DELETEd or abandoned stream was counted as `upstream_disconnected`."""
    client = make_client(stream_grace_seconds=0.3)
    before = client.get("/metrics").get_data(as_text=True)
    upstream.script = Script(tokens=["x"] * 200, interval=0.02)
    url = client.post("/api/streams", json={"kind": "answer", "question": "q"}).get_json()["url"]
    if how == "delete":
        assert client.delete(url).status_code == 204
    quotas = client.application.extensions["interview_app"].quotas
    assert upstream.wait_for(lambda: not quotas.active, 5)
    after = client.get("/metrics").get_data(as_text=True)
    outcome = "cancelled" if how == "delete" else "stream_abandoned"

    def delta(name: str) -> float:
        return value(after, name) - value(before, name)

    assert delta(f'interview_app_streams_finished_total{{outcome="{outcome}"}}') == 1
    assert delta('interview_app_streams_finished_total{outcome="upstream_disconnected"}') == 0
    assert delta('interview_app_upstream_errors_total{kind="upstream_disconnected"}') == 0
