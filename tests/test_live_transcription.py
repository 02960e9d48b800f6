"""Live transcription (issue 34, first part) through the Procfile's gunicorn + gevent with
the offline recognisers: PCM pieces posted as they are "recorded" (some twice, some out
of order), partial text and delivery figures as events while they come, the final text
moments after the last piece; sessions bounded, idle ones closed, wrong input refused."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from interview_app.coaching.delivery import Word
from interview_app.speech.live import agreed
from tests.helpers import sse_client, voice
from tests.helpers.server import Server

SAID = "I traced the failures and I rewrote the retry logic so errors fell by half"
PCM = {"Content-Type": "audio/L16;rate=16000"}
PIECE = 8000  # 0.25 s of 16 kHz 16-bit samples, in bytes


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("live")
    wav = voice.join([voice.silence(0.5, d / "a.wav"), voice.speak(SAID, d / "s.wav"),
                      voice.silence(1.0, d / "b.wav")], d / "all.wav")  # fmt: skip
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "STT": "offline", "HISTORY": "off",
                  "MAX_TRANSCRIPTIONS": "1", "TRANSCRIPTION_IDLE_SECONDS": "2",
                  "RATE_LIMIT_PER_MINUTE": "0"})  # fmt: skip
    yield srv
    srv.stop()


def _events(url: str, into: list[sse_client.Event]) -> threading.Thread:
    """Read the session's events as they come, in a thread, until `done` or `error`."""

    def read() -> None:
        with httpx.stream("GET", url, timeout=60) as response:
            buffer = ""
            for chunk in response.iter_text():
                buffer += chunk
                *blocks, buffer = buffer.split("\n\n")
                for block in blocks:
                    into.extend(sse_client.messages(block + "\n\n"))
                if into and into[-1].event in ("done", "error"):
                    return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _pieces(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + PIECE] for i in range(0, len(pcm), PIECE)]


@pytest.fixture(scope="module")
def workers(redis_server: Any) -> Iterator[Server]:
    """Two workers sharing Redis: a piece may land on either; the owner recognises it."""
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "STT": "offline", "HISTORY": "off",
                  "REDIS_URL": redis_server.url, "WEB_CONCURRENCY": "2",
                  "RATE_LIMIT_PER_MINUTE": "0"})  # fmt: skip
    yield srv
    srv.stop()


@pytest.mark.parametrize("where", ["one worker", "two workers and Redis"])
def test_partial_text_as_it_is_said_then_the_final_text(
    request: pytest.FixtureRequest, spoken: bytes, where: str
) -> None:
    server = request.getfixturevalue("server" if where == "one worker" else "workers")
    base = f"http://127.0.0.1:{server.port}"
    created = httpx.post(f"{base}/api/transcriptions/live?language=en")
    assert created.status_code == 201, created.text
    session = created.json()
    assert set(session) == {"id", "events", "audio"}
    events: list[sse_client.Event] = []
    reader = _events(base + session["events"], events)
    pieces = _pieces(spoken)
    order = list(range(len(pieces)))
    order[3], order[4] = order[4], order[3]  # two pieces out of order
    order.insert(6, 5)  # and one sent twice
    for seq in order:
        sent = httpx.post(f"{base}{session['audio']}?seq={seq}", content=pieces[seq], headers=PCM)
        assert sent.status_code == 204, sent.text
        time.sleep(0.05)  # faster than it is said, slower than all at once
    last = time.monotonic()
    ended = httpx.post(f"{base}{session['audio']}?seq={len(pieces)}&end=1", headers=PCM)
    assert ended.status_code == 204
    reader.join(60)
    stopped_to_final = time.monotonic() - last
    kinds = [e.event for e in events]
    assert kinds[-1] == "done", kinds
    partials = [e.json() for e in events if e.event == "partial"]
    assert partials, kinds  # text while it was being said
    stable = [p["stable"] for p in partials]
    assert all(b.startswith(a) for a, b in zip(stable, stable[1:], strict=False)), stable
    assert all(p["text"].startswith(p["stable"]) for p in partials)
    assert "delivery" in kinds
    said = events[-1].json()
    assert set(said) >= {"text", "delivery", "words", "no_speech", "language"}
    # tiny.en reads this espeak fixture differently from run to run (its temperature
    # fallback samples): 0.47 most runs, 0.53 in one ("I wrote them to reach right larger"
    # for "I rewrote the retry logic"), the one-shot's reading of the same WAV alike.
    heard = said["text"].lower()
    assert voice.wer(SAID, heard) <= 0.6 and "trace" in heard and "failure" in heard, heard
    assert stopped_to_final < 30  # measured in scripts/bench, not asserted here


def test_sessions_are_bounded_and_an_idle_one_is_closed(server: Server) -> None:
    base = f"http://127.0.0.1:{server.port}"
    first = httpx.post(f"{base}/api/transcriptions/live?language=ko")
    assert first.status_code == 201
    busy = httpx.post(f"{base}/api/transcriptions/live?language=en")
    assert busy.status_code == 503  # MAX_TRANSCRIPTIONS=1 counts sessions
    events: list[sse_client.Event] = []
    _events(base + first.json()["events"], events).join(20)
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "transcription_abandoned"
    again = httpx.post(f"{base}/api/transcriptions/live?language=en")
    assert again.status_code == 201  # the idle session's slot came back
    gone = httpx.post(f"{base}{again.json()['audio']}?seq=0&end=1", headers=PCM)
    assert gone.status_code == 204
    after: list[sse_client.Event] = []
    _events(base + again.json()["events"], after).join(20)
    assert after[-1].event == "done", after[-1].data
    assert after[-1].json()["no_speech"] is True


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/transcriptions/live?language=fr", {}, 400),
        ("/api/transcriptions/live/nope/audio?seq=0", PCM, 404),
        ("/api/transcriptions/live/nope/audio?seq=0", {"Content-Type": "audio/webm"}, 415),
        ("/api/transcriptions/live/nope/audio?seq=0", {"Content-Type": "audio/L16;rate=8000"}, 415),
        ("/api/transcriptions/live/nope/audio?seq=x", PCM, 400),
    ],
)
def test_wrong_input_gets_a_clear_json_error(
    server: Server, path: str, headers: dict[str, str], status: int
) -> None:
    answered = httpx.post(f"http://127.0.0.1:{server.port}{path}", content=b"\0\0", headers=headers)
    assert answered.status_code == status
    assert answered.json()["error"]["code"]


def test_two_passes_agree_on_their_common_prefix_only() -> None:
    def words(text: str) -> list[Word]:
        return [Word(w, 0.0, 0.0) for w in text.split()]

    assert agreed(words("I traced the"), words("I traced the failures")) == 3
    assert agreed(words("I traced, the"), words("i traced the")) == 3
    assert agreed(words("I trace the"), words("I traced the")) == 1
    assert agreed([], words("I")) == 0


def test_pieces_numbered_ever_further_ahead_grew_memory_without_end(server: Server) -> None:
    """Pieces that wait for a missing earlier one were kept without a bound: seq 1, 2,
    3... with no seq 0 grew the worker's memory for as long as they came."""
    base = f"http://127.0.0.1:{server.port}"
    session = httpx.post(f"{base}/api/transcriptions/live?language=en").json()
    for seq in (1, 2, 64):
        sent = httpx.post(f"{base}{session['audio']}?seq={seq}", content=b"\0" * 64, headers=PCM)
        assert sent.status_code == 204
    events: list[sse_client.Event] = []
    _events(base + session["events"], events).join(20)
    assert events[-1].event == "error" and events[-1].json()["code"] == "pieces_out_of_order"
    assert httpx.post(f"{base}/api/transcriptions/live?language=en").status_code == 201


# A story told at length with no result in it: context, then more context.
RAMBLE_KO = (
    "저희 팀은 결제 시스템을 운영하고 있었습니다 그 시스템은 여러 서버로 이루어져 있었고 "
    "매일 많은 요청을 처리하고 있었습니다 저는 그 팀에서 백엔드 개발을 맡고 있었고 "
    "주로 데이터베이스와 관련된 일을 하고 있었습니다 당시에는 팀원이 다섯 명이었고 "
    "회의를 자주 했습니다 회의에서는 주로 서버 구성과 배포 일정에 대해 이야기를 나누었습니다"
)
CUT_IN_KO = "잠시만요, 그래서 결과는 어땠나요?"
CUT_SHORT = {"turn": 0, "interrupted": "no_result"}


@pytest.fixture(scope="module")
def rambling(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("ramble")
    wav = voice.join([voice.silence(0.5, d / "a.wav"), voice.speak(RAMBLE_KO, d / "s.wav", "ko"),
                      voice.silence(1.0, d / "b.wav")], d / "all.wav")  # fmt: skip
    assert voice.seconds(wav) > 24  # past two thirds of a 30 s budget while still talking
    with wave.open(str(wav)) as w:
        return w.readframes(w.getnframes())


@pytest.fixture(scope="module")
def interviewing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cut-in') / 'cut.db'}"
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "STT": "offline", "DATABASE_URL": url,
                  "SECRET_KEY": "cut-in", "RATE_LIMIT_PER_MINUTE": "0",
                  "MAX_STREAMS_PER_CLIENT": "0"})  # fmt: skip
    yield srv
    srv.stop()


def _said_live(
    client: httpx.Client, base: str, query: str, pcm: bytes, pace: float = 0.1
) -> list[sse_client.Event]:
    """`pcm` through a live session opened with `query`, a quarter second of it every
    `pace` seconds; its events to the last."""
    created = client.post(f"{base}/api/transcriptions/live?language=ko{query}")
    assert created.status_code == 201, created.text
    session = created.json()
    events: list[sse_client.Event] = []
    reader = _events(base + session["events"], events)
    pieces = _pieces(pcm)
    for seq, piece in enumerate(pieces):
        assert client.post(f"{base}{session['audio']}?seq={seq}", content=piece,
                           headers=PCM).status_code == 204  # fmt: skip
        time.sleep(pace)  # faster than it is said, as slow as the cut-in's clock needs
    client.post(f"{base}{session['audio']}?seq={len(pieces)}&end=1", headers=PCM)
    reader.join(60)
    return events


def _interview(client: httpx.Client, base: str, **setup: Any) -> dict[str, Any]:
    """A one-question Korean interview whose question has been heard (an answer awaited)."""
    body = {"language": "ko", "questions": 1, "follow_ups": False, "answer_seconds": 30, **setup}
    created = client.post(f"{base}/api/interviews", json=body)
    assert created.status_code == 201, created.text
    heard = client.get(base + created.json()["next"]["stream"], timeout=30)
    assert "event: done" in heard.text
    made: dict[str, Any] = created.json()
    return made


def test_the_interviewer_cuts_in_on_a_long_answer_with_no_result(
    interviewing: Server, rambling: bytes
) -> None:
    base = f"http://127.0.0.1:{interviewing.port}"
    with httpx.Client(timeout=30) as client:  # one identity (its cookie) throughout
        made = _interview(client, base)
        events = _said_live(client, base, f"&interview={made['id']}", rambling)
        cut = [e.json() for e in events if e.event == "interrupt"]
        assert len(cut) == 1, [e.event for e in events]  # once per answer
        assert cut[0]["reason"] == "no_result" and cut[0]["text"] == CUT_IN_KO
        assert 20 <= cut[0]["seconds"] < 23  # two thirds of the 30 s budget, checked each second
        assert events[-1].event == "done"
        text = events[-1].json()["text"]
        # The answer so far is the answer, the interruption noted with it.
        sent = client.post(f"{base}{made['url']}/answers", json={"answer": text, **CUT_SHORT})
        assert sent.status_code == 201, sent.text
        feedback = client.get(base + sent.json()["feedback"]).text
        assert "면접관이 답변을 끊었습니다(결과를 아직 말하지 않음)" in feedback
        state = client.get(base + made["url"]).json()
        assert state["turns"][0]["interrupted"] == "no_result"
        report = client.get(base + state["current"]["stream"]).text
        assert '"interruptions": 1' in report or '"interruptions":1' in report
        page = client.get(f"{base}/interviews/{made['id']}/report").text
        assert "면접관이 답변을 1번 끊었습니다." in page

        # `interrupt: false` in the setup: the same answer runs on uncut.
        quiet = _interview(client, base, interrupt=False)
        assert client.get(base + quiet["url"]).json()["setup"]["interrupt"] is False
        events = _said_live(client, base, f"&interview={quiet['id']}", rambling, pace=0)
        assert events[-1].event == "done" and "interrupt" not in [e.event for e in events]

        # Another identity's interview is not found (its setup is nobody else's to read).
        other = httpx.post(f"{base}/api/transcriptions/live?language=ko&interview={made['id']}")
        assert other.status_code == 404 and other.json()["error"]["code"] == "interview_not_found"


def test_twenty_text_streams_keep_their_pace_while_four_live_sessions_run(
    tmp_path: Any,
) -> None:
    """Recognition runs in real threads, off the hub: 4 English live sessions (the heavier
    recogniser) at the pace of speech on one worker, and 20 coaching streams relayed by
    that worker meanwhile never wait a second for a token (the bench's live row)."""
    from bench.voice import live_load, recording

    row = live_load("en", recording(6.0, tmp_path), 4, text_streams=20)
    assert row["p95"] < 60  # every session got its final text
    assert row["text_gap"] < 1.0, row


def test_the_cut_in_came_after_the_candidate_had_stopped() -> None:
    """The budget is read by the audio's clock, and recognition may lag: the batch that
    carried the last piece crossed the mark and the interviewer said "Let me stop you
    there" to a candidate who had already stopped (and the answer was sent as cut)."""
    from interview_app.coaching.interview import CutIn
    from interview_app.speech.live import MemoryInbox, Piece, Session
    from interview_app.speech.recognizers import Heard

    class Rambling:
        def feed(self, pcm: Any) -> tuple[str, str]:
            return ("so our team ran the payments system and we had many servers " * 3, "")

        def finish(self) -> list[Heard]:
            return []

    events: list[str] = []
    inbox = MemoryInbox()
    second = b"\0\0" * 16000
    for seq in range(25):  # 25 s of audio, the last piece among them: it all lands at once
        inbox.put(Piece(seq, second, end=seq == 24))
    session = Session(
        id="s", language="en", live=Rambling(), emit=lambda e, _d: events.append(e) or True,
        finish=lambda e, _d: events.append(e) or True, inbox=inbox, source="offline",
        model="m", long_pause=1.5, max_seconds=600, idle_seconds=5, released=lambda: None,
        cut_in=CutIn(budget=30, story=True, language="en"),
    )  # fmt: skip
    session.run()
    assert events[-1] == "done" and "interrupt" not in events, events
