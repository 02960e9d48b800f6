"""/metrics in Prometheus format, and the request id."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.fakes import FakeUpstream, Script


def value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


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
