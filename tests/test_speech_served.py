"""Voice through the Procfile's gunicorn + gevent: recognition never stops the hub (the other
streams' tokens keep flowing), transcriptions are bounded per worker, and a reader who leaves
stops the work (offline, and at the model server)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import sse_client, voice
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server

TEXT = (
    "I traced the failures and I rewrote the retry logic. As a result the errors fell and "
    "the team shipped on time. Then I wrote down what we learned so the next release went "
    "smoothly."
)


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("long")
    said = voice.speak(TEXT, d / "said.wav")
    gap = voice.silence(0.7, d / "gap.wav")
    repeats = int(60 / (voice.seconds(said) + 0.7)) + 1
    out = voice.join([said, gap] * repeats, d / "minute.wav")
    assert voice.seconds(out) >= 60
    voice.seconds_of_text = voice.seconds(said) + 0.7  # type: ignore[attr-defined]
    return out


def _open(
    server: Server, data: bytes
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = server.connection(60)
    conn.request("POST", "/api/transcriptions?language=en", data, {"Content-Type": "audio/wav"})
    return conn, conn.getresponse()


def _post_audio(server: Server, data: bytes) -> tuple[int, str | None, bytes]:
    """Status, Retry-After and body of a whole transcription."""
    conn, response = _open(server, data)
    try:
        return response.status, response.getheader("Retry-After"), response.read()
    finally:
        conn.close()


def _first_words(response: http.client.HTTPResponse) -> None:
    got = b""
    while b'"text"' not in got:
        part = response.read1(65536)
        assert part, got
        got += part


class _Reader(threading.Thread):
    """One text stream, each chunk's arrival time kept."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.arrivals: list[float] = []
        self.start()

    def run(self) -> None:
        conn = self.server.connection(60)
        body = json.dumps({"question": "Why do you want this job?"})
        conn.request("POST", "/api/answer", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        while response.read1(65536):
            self.arrivals.append(time.monotonic())
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'voice.db'}"
    srv = Server({"STT": "offline", "OFFLINE_TOKENS_PER_SECOND": "8", "MAX_TRANSCRIPTIONS": "1",
                  "DATABASE_URL": url, "RATE_LIMIT_PER_MINUTE": "0",
                  "MAX_STREAMS_PER_CLIENT": "0"})  # fmt: skip
    yield srv
    srv.stop()
    assert "Traceback" not in srv.output(), srv.output()


def test_a_minute_transcribed_offline_never_stops_twenty_streams(
    server: Server, long_recording: Path
) -> None:
    readers = [_Reader(server) for _ in range(20)]
    time.sleep(1.0)  # every stream is flowing
    began = time.monotonic()
    conn, response = _open(server, long_recording.read_bytes())
    assert response.status == 200
    # The worker's one transcription is taken: the next one waits for no one, it is told.
    status, retry_after, body = _post_audio(server, long_recording.read_bytes()[:100_000])
    assert status == 503 and retry_after
    assert json.loads(body)["error"]["code"] == "server_busy"
    events = sse_client.messages(response.read())
    conn.close()
    ended = time.monotonic()
    done = events[-1].json()
    assert events[-1].event == "done" and done["duration_seconds"] >= 60
    said = voice.words(done["text"])
    spoken = len(voice.words(TEXT)) * int(done["duration_seconds"] // voice.seconds_of_text)
    assert "traced" in said and "retry" in said and len(said) > 0.4 * spoken, done["text"]
    for reader in readers:
        reader.join(60)
        during = [t for t in reader.arrivals if began <= t <= ended]
        gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
        assert during and max(gaps, default=0) < 1.0, f"a stream stopped {max(gaps):.2f} s"


def test_a_reader_who_leaves_stops_the_offline_work(server: Server, long_recording: Path) -> None:
    data = long_recording.read_bytes()
    began = time.monotonic()
    assert _post_audio(server, data)[0] == 200
    whole_work = time.monotonic() - began  # the whole minute, read to its end
    started = time.monotonic()
    conn, response = _open(server, data)
    assert response.status == 200
    _first_words(response)
    response.close()  # the reader leaves after the first words
    conn.close()
    left = time.monotonic()
    status = 0
    while time.monotonic() - left < 10:
        status, _, _ = _post_audio(server, data[:200_000])
        if status == 200:
            break
        time.sleep(0.2)
    freed = time.monotonic() - left
    whole = time.monotonic() - started
    assert status == 200, "the transcription slot was never freed"
    # Cancelled, the rest of the minute is never recognised: the slot is free well before
    # the whole work would have ended (one short window may still finish).
    assert freed < 0.7 * whole_work, f"slot held {freed:.1f} s of {whole_work:.1f} s"
    assert whole < whole_work + 5


def test_a_reader_who_leaves_closes_the_model_servers_transcription(
    upstream_server: FakeUpstream, upstream: FakeUpstream, long_recording: Path
) -> None:
    srv = Server(relay_env(upstream_server, STT="model"))
    try:
        upstream.script = Script(transcript=" ".join(["word"] * 200), interval=0.1)
        conn, response = _open(srv, long_recording.read_bytes())
        assert response.status == 200
        _first_words(response)
        response.close()
        conn.close()
        assert upstream.wait_for(lambda: upstream.cancelled_transcriptions == 1, 10)
    finally:
        srv.stop()
