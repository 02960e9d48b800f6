"""Voice against speech servers as they really are (issue 31, items 4-7 and 9), through
the Procfile's gunicorn + gevent and the real SDK against local OpenAI-compatible servers:
one that ignores `stream` and answers JSON, one with no `/v1/audio/*` at all, one that
takes long, one that hears another language, and speech voices per language."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import sse_client, voice
from tests.helpers.env import relay_env
from tests.helpers.fakes import FakeUpstream, Script
from tests.helpers.server import Server

SAID = "I traced the failures and I rewrote the retry logic."


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return voice.speak(SAID, tmp_path_factory.mktemp("said") / "said.wav").read_bytes()


@pytest.fixture
def speech_server() -> Iterator[FakeUpstream]:
    """A second local server, for speech alone."""
    server = FakeUpstream().start()
    yield server
    server.stop()


def _transcribe(srv: Server, data: bytes, language: str = "en") -> list[sse_client.Event]:
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=60) as client:
        response = client.post(f"/api/transcriptions?language={language}", content=data,
                               headers={"Content-Type": "audio/wav"})  # fmt: skip
    assert response.status_code == 200, response.text
    return sse_client.messages(response.content)


def _health(srv: Server) -> dict[str, str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}") as client:
        found: dict[str, str] = client.get("/healthz").json()
        return found


def test_a_server_that_ignores_stream_and_answers_json_is_read(
    upstream_server: FakeUpstream, upstream: FakeUpstream, recording: bytes
) -> None:
    srv = Server(relay_env(upstream_server, STT="model"))
    try:
        upstream.script = Script(transcript=SAID, transcript_json=True)
        done = _transcribe(srv, recording)[-1].json()
        # The SDK's stream over a JSON body yielded nothing: "no speech" after 14 s spoken.
        assert done["text"] == SAID and done["no_speech"] is False
        assert upstream.transcriptions[-1]["stream"] == "true"
    finally:
        srv.stop()


def test_a_chat_server_without_audio_endpoints_falls_back_to_offline_recognition(
    upstream_server: FakeUpstream, upstream: FakeUpstream, recording: bytes
) -> None:
    srv = Server(relay_env(upstream_server, TTS="model"))  # STT and TTS default to model
    try:
        upstream.script = Script(audio=False)
        assert _health(srv)["stt"] == "model"
        for _ in range(2):
            done = _transcribe(srv, recording)[-1].json()
            assert done["source"] == "offline", done
            assert "retry" in voice.words(done["text"]), done["text"]
        assert _health(srv)["stt"] == "offline"
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}") as client:
            spoken = client.post("/api/speech", json={"text": "Hello.", "language": "en"})
        assert spoken.status_code == 404
        assert spoken.json()["error"]["code"] == "speech_unavailable"
        assert _health(srv)["tts"] == "browser"
    finally:
        srv.stop()
    log = srv.output()
    assert log.count("has no /v1/audio/transcriptions") == 1  # said once, not per request
    assert "Traceback" not in log


def test_speech_has_its_own_server(
    upstream_server: FakeUpstream,
    upstream: FakeUpstream,
    speech_server: FakeUpstream,
    recording: bytes,
) -> None:
    srv = Server(relay_env(upstream_server, STT="model", TTS="model",
                           STT_BASE_URL=speech_server.url, TTS_BASE_URL=speech_server.url,
                           TTS_VOICE="joe"))  # fmt: skip
    try:
        upstream.script = Script(audio=False)
        speech_server.script = Script(transcript=SAID)
        done = _transcribe(srv, recording)[-1].json()
        assert done["source"] == "model" and done["text"] == SAID
        assert len(speech_server.transcriptions) == 1 and not upstream.transcriptions
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}") as client:
            english = client.post("/api/speech", json={"text": "Hello.", "language": "en"})
            # A local server's voice speaks one language: Korean is the browser's to read.
            korean = client.post("/api/speech", json={"text": "안녕하세요.", "language": "ko"})
        assert english.status_code == 200 and english.content.startswith(b"ID3")
        assert speech_server.speeches[-1]["voice"] == "joe"
        assert korean.status_code == 404 and korean.json()["error"]["code"] == (
            "speech_unavailable"
        )
    finally:
        srv.stop()


def test_a_voice_per_language(
    upstream_server: FakeUpstream, upstream: FakeUpstream, speech_server: FakeUpstream
) -> None:
    srv = Server(relay_env(upstream_server, TTS="model", TTS_BASE_URL=speech_server.url,
                           TTS_VOICE_EN="joe", TTS_VOICE_KO="minji"))  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}") as client:
            for language, voice_name in (("en", "joe"), ("ko", "minji")):
                spoken = client.post("/api/speech", json={"text": "Hi.", "language": language})
                assert spoken.status_code == 200
                assert speech_server.speeches[-1]["voice"] == voice_name
    finally:
        srv.stop()


def test_a_slow_transcription_server_gets_headers_and_pings_at_once(
    upstream_server: FakeUpstream, upstream: FakeUpstream, recording: bytes
) -> None:
    srv = Server(relay_env(upstream_server, STT="model", SSE_HEARTBEAT_SECONDS="1"))
    try:
        upstream.script = Script(transcript=SAID, transcript_json=True, transcript_delay=4)
        conn = srv.connection(60)
        began = time.monotonic()
        conn.request("POST", "/api/transcriptions?language=en", recording,
                     {"Content-Type": "audio/wav"})  # fmt: skip
        response = conn.getresponse()
        headers = time.monotonic() - began
        chunks: list[tuple[float, bytes]] = []
        while chunk := response.read1(65536):
            chunks.append((time.monotonic() - began, chunk))
        conn.close()
        # Before: nothing at all until the server had finished (13-27 s on real clips).
        assert response.status == 200 and headers < 2.0, headers
        pings = sum(c.count(b": ping") for t, c in chunks if t < 4.0)
        assert pings >= 2, chunks
        events = sse_client.messages(b"".join(c for _, c in chunks))
        assert events[-1].json()["text"] == SAID
    finally:
        srv.stop()


def test_a_server_that_hears_another_language_is_said_and_its_repeats_dropped(
    upstream_server: FakeUpstream, upstream: FakeUpstream, recording: bytes
) -> None:
    srv = Server(relay_env(upstream_server, STT="model"))
    try:
        invented = "I like the weather today. " * 3
        upstream.script = Script(transcript=invented.strip(), transcript_json=True,
                                 transcript_language="english")  # fmt: skip
        done = _transcribe(srv, recording, "ko")[-1].json()
        assert done["language_mismatch"] is True and done["language_heard"] == "en"
        assert done["text"] == "I like the weather today."
        upstream.script = Script(transcript=SAID, transcript_json=True,
                                 transcript_language="en")  # fmt: skip
        done = _transcribe(srv, recording, "en")[-1].json()
        assert done["language_mismatch"] is False and done["text"] == SAID
    finally:
        srv.stop()


def test_settings_name_each_speech_server() -> None:
    from interview_app.settings import Settings

    chat = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://chat/v1"}
    s = Settings.from_env(chat)
    assert (s.stt_base_url, s.tts_base_url, s.stt_api_key) == (
        "http://chat/v1", "http://chat/v1", "k"
    )  # fmt: skip
    assert (s.tts_voice_en, s.tts_voice_ko) == ("alloy", "none")  # a local voice: English
    s = Settings.from_env({"OPENAI_API_KEY": "k"})
    assert (s.tts_voice_en, s.tts_voice_ko) == ("alloy", "alloy")  # OpenAI's speak both
    s = Settings.from_env({"STT": "model", "STT_BASE_URL": "http://stt/v1"})
    assert s.llm_backend == "offline" and s.stt == "model"
    assert json.dumps(s.stt_base_url) == '"http://stt/v1"'
