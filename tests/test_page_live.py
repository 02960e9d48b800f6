"""The transcript while speaking, and a hands-free answer, in real Chromium with a fake
microphone of a known timeline: a lead silence, speech, a pause shorter than
TURN_END_SECONDS, more speech, then a long silence (issue 34, first part)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.helpers import voice
from tests.helpers.browsing import speaking, watched, with_microphone
from tests.helpers.server import Server

FIRST = "I traced the failures and I rewrote the retry logic"
SECOND = "then I added alerts for every failure"


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("live-mic")
    parts = [voice.silence(1.0, d / "lead.wav"), voice.speak(FIRST, d / "a.wav"),
             voice.silence(1.2, d / "pause.wav"), voice.speak(SECOND, d / "b.wav"),
             voice.silence(6.0, d / "end.wav")]  # fmt: skip
    return voice.join(parts, d / "mic.wav")


@pytest.fixture(scope="module")
def mic(browser: Browser, timeline: Path) -> Iterator[Browser]:
    launched = with_microphone(browser, timeline)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('live-page') / 'page.db'}"
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "DATABASE_URL": url, "SECRET_KEY": "live",
                  "STT": "offline", "RATE_LIMIT_PER_MINUTE": "0",
                  "MAX_STREAMS_PER_CLIENT": "0"})  # fmt: skip
    yield srv
    srv.stop()


@pytest.fixture
def page(mic: Browser) -> Iterator[Page]:
    context = speaking(mic, "en-US")
    with watched(context) as pg:
        yield pg


def test_a_hands_free_answer_transcribed_as_it_is_said(page: Page, server: Server) -> None:
    page.goto(f"http://127.0.0.1:{server.port}/")
    page.get_by_test_id("mode-interview").click()
    page.get_by_test_id("iv-questions").fill("1")
    page.get_by_test_id("iv-follow").uncheck()
    page.get_by_test_id("iv-speak").check()
    page.get_by_test_id("iv-hands-free").check()
    page.get_by_test_id("iv-start").click()
    # Recording starts by itself once the question has been read.
    page.wait_for_function(
        "document.querySelector('[data-testid=iv-record]').getAttribute('aria-pressed') === 'true'",
        timeout=30_000,
    )
    assert page.evaluate("window.__spoken.length") == 1
    countdowns: list[str] = []
    seen = []
    while page.get_by_test_id("iv-record").get_attribute("aria-pressed") == "true":
        seen.append(page.get_by_test_id("iv-answer").input_value())
        countdowns.append(page.get_by_test_id("iv-turn").inner_text())
        page.wait_for_timeout(150)
    # Text on screen while speaking, before the recording stopped.
    assert any(s.strip() for s in seen), seen
    # The silence after speech was counted down, on screen.
    assert any(c.startswith("Sending in") for c in countdowns), countdowns
    # Sent without a click: the answer, then its feedback and the report.
    page.get_by_test_id("iv-report-link").wait_for(timeout=60_000)
    answer = page.locator("#iv-transcript li[data-kind=answer]").first.inner_text().lower()
    # The first stretch ("retry" is heard as "rotary try" some runs: tests/test_page_voice.py).
    assert "trace" in answer, answer
    # The pause inside the answer (shorter than TURN_END_SECONDS) did not end it.
    assert "every" in answer, answer


def test_the_transcript_grows_while_recording_in_practice(page: Page, server: Server) -> None:
    page.goto(f"http://127.0.0.1:{server.port}/")
    page.get_by_test_id("question").fill("Tell me about a time you fixed something that failed.")
    page.get_by_test_id("record").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=record]').getAttribute('aria-pressed') === 'true'"
    )
    # Text while recording. Not after a fixed 8 s: a full suite once saw none by then (the
    # looping fake microphone is not always at its file's start when capture begins).
    page.wait_for_function(
        "document.querySelector('[data-testid=answer]').value.trim() !== ''", timeout=30_000
    )
    seen = [page.get_by_test_id("answer").input_value()]
    assert page.get_by_test_id("record").get_attribute("aria-pressed") == "true"
    page.wait_for_timeout(6000)  # the pause and the second stretch of speech
    page.get_by_test_id("record").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=record-status]').textContent.startsWith('Transcribed')",
        timeout=30_000,
    )
    assert seen[0].strip(), "no text while recording"
    final = page.get_by_test_id("answer").input_value().lower()
    assert "trace" in final and "every" in final, final  # both stretches of speech
    assert page.get_by_test_id("delivery").is_visible()


def test_a_stopped_recording_still_said_recording(page: Page, server: Server) -> None:
    """Stopped, the recorder said "Recording… press again to stop." until the live
    transcription's final text came (in the journey's screenshots, beside a finished
    feedback)."""
    page.goto(f"http://127.0.0.1:{server.port}/")
    page.get_by_test_id("record").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=record-status]').textContent.startsWith('Recording')"
    )
    page.wait_for_timeout(1500)
    page.get_by_test_id("record").click()
    said = page.get_by_test_id("record-status").inner_text()
    assert said.startswith(("Transcrib", "No speech")), said


# A Korean story told at length with no result: context, a pause, more context.
RAMBLE_A = (
    "저희 팀은 결제 시스템을 운영하고 있었습니다 "
    "그 시스템은 여러 서버로 이루어져 있었고 매일 많은 요청을 처리했습니다"
)
RAMBLE_B = (
    "저는 그 팀에서 백엔드 개발을 맡고 있었고 "
    "주로 데이터베이스와 관련된 일을 하고 있었습니다 당시에는 팀원이 다섯 명이었고 "
    "회의에서는 주로 서버 구성과 배포 일정에 대해 이야기를 나누었습니다"
)
CUT_IN_KO = "잠시만요, 그래서 결과는 어땠나요?"
RECORDING = "document.querySelector('[data-testid=iv-record]').ariaPressed === 'true'"


@pytest.fixture(scope="module")
def rambling_mic(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    d = tmp_path_factory.mktemp("ramble-mic")
    parts = [voice.silence(1.0, d / "lead.wav"), voice.speak(RAMBLE_A, d / "a.wav", "ko"),
             voice.silence(1.5, d / "pause.wav"), voice.speak(RAMBLE_B, d / "b.wav", "ko"),
             voice.silence(6.0, d / "end.wav")]  # fmt: skip
    wav = voice.join(parts, d / "mic.wav")
    assert voice.seconds(wav) - 6.0 > 24  # still talking at two thirds of a 30 s budget
    launched = with_microphone(browser, wav)
    yield launched
    launched.close()


def test_a_korean_hands_free_answer_with_no_result_is_cut_in(
    rambling_mic: Browser, server: Server
) -> None:
    context = speaking(rambling_mic, "ko-KR")
    with watched(context) as page:
        page.goto(f"http://127.0.0.1:{server.port}/")
        page.get_by_test_id("mode-interview").click()
        page.get_by_test_id("iv-questions").fill("1")
        page.get_by_test_id("iv-seconds").fill("30")
        page.get_by_test_id("iv-follow").uncheck()
        page.get_by_test_id("iv-speak").check()
        page.get_by_test_id("iv-hands-free").check()
        assert page.get_by_test_id("iv-interrupt").is_checked()  # on by default
        page.get_by_test_id("iv-start").click()
        page.wait_for_function(RECORDING, timeout=30_000)
        recording_from = page.evaluate("Date.now()")
        seen = []
        while page.get_by_test_id("iv-record").get_attribute("aria-pressed") == "true":
            seen.append(page.get_by_test_id("iv-answer").input_value())
            page.wait_for_timeout(250)
        stopped_after = (page.evaluate("Date.now()") - recording_from) / 1000
        assert any(s.strip() for s in seen), "no text while speaking"
        # Not the 1.5 s pause (below TURN_END_SECONDS), not the budget: the interviewer,
        # at two thirds of it with no result said.
        cut = page.locator("#iv-transcript li[data-kind=interrupt]")
        cut.wait_for(timeout=5_000)
        assert CUT_IN_KO in cut.inner_text()
        assert 19 < stopped_after < 27, stopped_after
        page.get_by_test_id("iv-report-link").wait_for(timeout=60_000)
        spoken = page.evaluate("[window.__spoken, window.__spokenLangs]")
        assert CUT_IN_KO in spoken[0] and set(spoken[1]) == {"ko-KR"}, spoken
        answer = page.locator("#iv-transcript li[data-kind=answer]").first
        assert "중간에 끊긴 답변" in answer.inner_text()  # marked as cut short
        feedback = page.locator("#iv-transcript li[data-kind=feedback]").first.inner_text()
        assert "면접관이 답변을 끊었습니다" in feedback
        report = context.new_page()
        link = page.get_by_test_id("iv-report-link").get_attribute("href") or ""
        report.goto(f"http://127.0.0.1:{server.port}{link}")
        assert "면접관이 답변을 1번 끊었습니다." in report.get_by_test_id("report").inner_text()
