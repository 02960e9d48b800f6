"""Issue 33 in real Chromium: the page does what the API can (another interview, drills,
sharing and its revoked page), on a phone too, in one language at a time, in words and
numbers a person reads without stumbling. Each test is named after what was wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine, text

from tests.helpers.answers import STRONG_EN, STRONG_KO
from tests.helpers.browsing import watched
from tests.helpers.server import Server
from tests.test_page_access import violations

QUESTION = {"en": "Tell me about a time you failed.",
            "ko": "실패했던 경험과 그로부터 배운 점을 말해 주세요."}  # fmt: skip
WEAK = {"en": "We worked hard on it as a team and it went fine in the end.",
        "ko": "저희 팀이 같이 열심히 했고 결국 잘 마무리되었습니다."}  # fmt: skip
STRONG = {"en": STRONG_EN, "ko": STRONG_KO}
LOCALE = {"en": "en-US", "ko": "ko-KR"}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('finish') / 'page.db'}"
    # Many tests from one address within a minute: no per-client rate limit here.
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "DATABASE_URL": url, "SECRET_KEY": "fin",
                  "RATE_LIMIT_PER_MINUTE": "0", "MAX_STREAMS_PER_CLIENT": "0"})  # fmt: skip
    yield srv, url
    srv.stop()


def _sql(url: str, statement: str, **values: Any) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), values)
    engine.dispose()


def _open(browser: Browser, srv: Server, lang: str, **kwargs: Any) -> Any:
    return watched(browser.new_context(locale=LOCALE[lang], bypass_csp=True, **kwargs))


def _feedback(page: Page, question: str, answer: str) -> None:
    page.get_by_test_id("question").fill(question)
    page.get_by_test_id("answer").fill(answer)
    page.get_by_test_id("ask-feedback").click()
    page.wait_for_selector("[data-testid=status]:is([data-state=done], [data-state=error])")
    assert page.get_by_test_id("status").get_attribute("data-state") == "done", page.get_by_test_id(
        "status"
    ).inner_text()


def _interview(page: Page, answer: str, questions: int = 1) -> None:
    """From the setup form to the report, answering every turn with `answer`."""
    page.get_by_test_id("mode-interview").click()
    page.get_by_test_id("iv-questions").fill(str(questions))
    page.get_by_test_id("iv-start").click()
    _answer_all(page, answer)


# Answers in the transcript: each sent answer adds one. (The test waited for the answer
# box to hide, but with instant streams the next question can show it again before a
# poll sees it hidden: a 30 s timeout once, with two test processes on two cores.)
ANSWERS = "document.querySelectorAll('#iv-transcript li[data-kind=answer]').length"


def _answer_all(page: Page, answer: str) -> None:
    while True:
        page.wait_for_function(
            "!document.getElementById('iv-answer-box').hidden"
            " || !document.getElementById('iv-report-link').hidden",
            timeout=20_000,
        )
        if page.get_by_test_id("iv-report-link").is_visible():
            return
        sent = page.evaluate(ANSWERS)
        page.get_by_test_id("iv-answer").fill(answer)
        page.get_by_test_id("iv-answer").press("Control+Enter")
        try:
            page.wait_for_function(f"{ANSWERS} > {sent}")
        except Exception as exc:  # say what the page said instead of a bare timeout
            raise AssertionError(page.get_by_test_id("iv-status").inner_text()) from exc


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_second_mock_interview_could_not_be_started(
    browser: Browser, served: tuple[Server, str], lang: str
) -> None:
    srv, _ = served
    with _open(browser, srv, lang) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        _interview(page, STRONG[lang])
        assert page.get_by_test_id("iv-setup").is_hidden()
        page.get_by_test_id("iv-new").click()
        assert page.get_by_test_id("iv-setup").is_visible()
        assert "#interview=" not in page.url  # a reload does not resume the finished one
        assert page.get_by_test_id("iv-transcript").inner_text() == ""
        page.get_by_test_id("iv-start").click()
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        assert "#interview=" in page.url
        page.reload()
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")  # this one resumes


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_revoked_or_expired_link_showed_raw_english_json(
    browser: Browser, served: tuple[Server, str], lang: str
) -> None:
    srv, url = served
    with _open(browser, srv, lang) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        _interview(page, STRONG[lang])
        page.get_by_test_id("iv-share").click()
        page.wait_for_function("document.querySelector('[data-testid=share-url]').value !== ''")
        link = page.get_by_test_id("share-url").input_value()
        assert link.startswith(f"http://127.0.0.1:{srv.port}/shared/")
        # A stranger reads it in a browser of their own, whatever its language.
        with _open(browser, srv, "en" if lang == "ko" else "ko") as stranger:
            stranger.goto(link)
            assert stranger.get_by_test_id("report").is_visible()
            page.get_by_test_id("iv-unshare").click()
            page.wait_for_function(
                "document.querySelector('[data-testid=iv-unshare]').disabled === true"
            )
            gone = stranger.goto(link)
            assert gone is not None and gone.status == 404
            shown = stranger.get_by_test_id("shared-gone")
            assert shown.get_attribute("data-code") == "share_not_found"
            assert stranger.evaluate("document.documentElement.lang") == lang
            words = {"en": "revoked", "ko": "취소"}[lang]
            assert words in shown.inner_text() and "{" not in shown.inner_text()
            page.get_by_test_id("iv-share").click()
            page.wait_for_function(
                f"document.querySelector('[data-testid=share-url]').value !== {link!r}"
            )
            again = page.get_by_test_id("share-url").input_value()
            _sql(url, "UPDATE shares SET expires_at = :t", t=datetime.now(UTC) - timedelta(hours=1))
            expired = stranger.goto(again)
            assert expired is not None and expired.status == 410
            shown = stranger.get_by_test_id("shared-gone")
            assert shown.get_attribute("data-code") == "share_expired"
            assert {"en": "expired", "ko": "기간"}[lang] in shown.inner_text()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_drills_existed_only_in_the_api(
    browser: Browser, served: tuple[Server, str], lang: str
) -> None:
    srv, _ = served
    with _open(browser, srv, lang) as page:
        asked: list[dict[str, Any]] = []
        page.on("request", lambda r: asked.append(r.post_data_json or {})
                if r.url.endswith("/api/interviews") and r.method == "POST" else None)  # fmt: skip
        page.goto(f"http://127.0.0.1:{srv.port}/")
        for _ in range(2):
            _feedback(page, QUESTION[lang], WEAK[lang])
        # "Practise next" and history name the same weakest part, each as a drill.
        weak = page.locator("[data-testid=review-weak] [data-testid=drill]")
        weak.first.wait_for()
        history = page.locator("[data-testid=weakest] [data-testid=drill]")
        history.wait_for()
        part = weak.first.get_attribute("data-part")
        assert part == history.get_attribute("data-part") == "action"
        assert weak.count() <= 3
        history.click()
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        assert asked and asked[-1].get("focus") == "action"
        aim = page.get_by_test_id("iv-aim")
        assert aim.is_visible() and {"en": "Aim", "ko": "목표"}[lang] in aim.inner_text()
        _answer_all(page, STRONG[lang])
        # The report names the part to drill next, as a drill too.
        page.get_by_test_id("iv-new").click()
        page.get_by_test_id("iv-questions").fill("1")
        page.get_by_test_id("iv-follow").uncheck()
        page.get_by_test_id("iv-start").click()
        _answer_all(page, WEAK[lang])
        report = page.locator("[data-testid=iv-drill] [data-testid=drill]")
        assert report.get_attribute("data-part") == "action"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_on_a_phone_the_feedback_streamed_off_screen(
    browser: Browser, served: tuple[Server, str], lang: str
) -> None:
    srv, _ = served
    with _open(browser, srv, lang, viewport=PHONE) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("question").fill(QUESTION[lang])
        page.get_by_test_id("answer").fill(STRONG[lang])
        page.get_by_test_id("ask-feedback").click()
        page.wait_for_selector("[data-testid=status]:is([data-state=done], [data-state=error])")
        assert page.get_by_test_id("status").get_attribute("data-state") == "done", (
            page.get_by_test_id("status").inner_text()
        )
        box = page.get_by_test_id("status").bounding_box()
        assert box is not None and 0 <= box["y"] < PHONE["height"], box
        assert page.get_by_test_id("status").inner_text()


def test_a_korean_review_item_stayed_in_english(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, url = served
    with _open(browser, srv, "en") as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("language").select_option("ko")
        _feedback(page, QUESTION["ko"], WEAK["ko"])
        page.get_by_test_id("language").select_option("en")
        _sql(url, "UPDATE reviews SET due_at = :t", t=datetime.now(UTC) - timedelta(minutes=1))
        page.reload()
        item = page.locator("[data-testid=review-item]", has_text=QUESTION["ko"])
        item.click()
        assert page.get_by_test_id("language").input_value() == "ko"
        assert page.evaluate("document.documentElement.lang") == "ko"
        assert page.get_by_test_id("question").input_value() == QUESTION["ko"]


def test_compared_with_last_time_across_languages(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, _ = served
    with _open(browser, srv, "en") as page:
        page.on("dialog", lambda d: d.accept())
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("delete-all").click()
        _feedback(page, QUESTION["en"], WEAK["en"])
        page.get_by_test_id("language").select_option("ko")
        _feedback(page, QUESTION["ko"], WEAK["ko"])  # the same bank question, translated
        compare = page.get_by_test_id("compare")
        compare.wait_for()
        assert "다른 언어" in page.get_by_test_id("rubric-change").inner_text()
        assert page.locator("#diff ins, #diff del").count() == 0
        _feedback(page, QUESTION["ko"], WEAK["ko"].replace("결국", "마침내"))
        page.wait_for_function("document.querySelectorAll('#diff ins').length > 0")
        assert "마침내" in " ".join(page.locator("#diff ins").all_inner_texts())
        assert violations(page) == []  # its heading in order (heading-order, moderate)


def test_korean_broke_inside_words(browser: Browser, served: tuple[Server, str]) -> None:
    srv, _ = served
    with _open(browser, srv, "ko", viewport=PHONE) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        _interview(page, STRONG["ko"])
        for testid in ("iv-transcript", "output"):
            style = page.get_by_test_id(testid).evaluate("e => getComputedStyle(e).wordBreak")
            assert style == "keep-all", testid
        page.get_by_test_id("iv-share").click()
        page.wait_for_function("document.querySelector('[data-testid=share-url]').value !== ''")
        link = page.get_by_test_id("share-url").input_value()
        report = page.get_by_test_id("iv-report-link").get_attribute("href")
        for address in (link, f"http://127.0.0.1:{srv.port}{report}"):
            page.goto(address)
            style = page.get_by_test_id("report").evaluate("e => getComputedStyle(e).wordBreak")
            assert style == "keep-all", address


def test_the_language_was_forgotten_and_a_switch_left_mixed_text(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, _ = served
    with _open(browser, srv, "en") as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("language").select_option("ko")
        page.reload()
        assert page.get_by_test_id("language").input_value() == "ko"
        _feedback(page, QUESTION["ko"], STRONG["ko"])
        assert page.get_by_test_id("rubric-source").inner_text() == "규칙으로 채점"
        page.get_by_test_id("language").select_option("en")
        assert page.get_by_test_id("rubric-source").inner_text() == "scored by rules"
        assert page.get_by_test_id("status").inner_text() == "Done"
        assert not re.search("[가-힣]", page.get_by_test_id("checklist").inner_text())


def _speech_stub(ready: bool) -> str:
    """speechSynthesis as a test drives it: it ends when `window.__end()` is called, or
    is missing altogether (a browser with no voice)."""
    if not ready:
        return "delete window.speechSynthesis; window.speechSynthesis = undefined;"
    return (
        "window.__spoken = []; window.__end = () => window.__current.onend();"
        "window.SpeechSynthesisUtterance = function (text) { this.text = text; };"
        "Object.defineProperty(window, 'speechSynthesis', { value: {"
        " speak: (u) => { window.__spoken.push(u.text); window.__current = u; },"
        " getVoices: () => [{ lang: 'en-US' }], cancel: () => {} } });"
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_reading_a_question_aloud_gave_no_sign_of_itself(
    browser: Browser, served: tuple[Server, str], lang: str
) -> None:
    srv, _ = served
    ctx = browser.new_context(locale=LOCALE[lang], bypass_csp=True)
    ctx.add_init_script(_speech_stub(True))
    with watched(ctx) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("mode-interview").click()
        page.get_by_test_id("iv-speak").check()
        page.get_by_test_id("iv-questions").fill("1")
        page.get_by_test_id("iv-start").click()
        reading = page.get_by_test_id("iv-reading")
        page.wait_for_function("window.__spoken.length === 1")
        assert reading.inner_text() == {"en": "Reading the question aloud…",
                                        "ko": "질문을 읽어 주는 중…"}[lang]  # fmt: skip
        page.wait_for_timeout(1500)
        # The countdown waits for the reading to end.
        assert page.get_by_test_id("iv-answer-box").is_hidden()
        page.evaluate("window.__end()")
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        assert (
            page.get_by_test_id("iv-timer")
            .inner_text()
            .startswith({"en": "120 s", "ko": "남은 시간 120"}[lang])
        )
        page.get_by_test_id("iv-replay").click()
        page.wait_for_function("window.__spoken.length === 2")
    mute = browser.new_context(locale=LOCALE[lang], bypass_csp=True)
    mute.add_init_script(_speech_stub(False))
    with watched(mute) as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("mode-interview").click()
        page.get_by_test_id("iv-speak").check()
        page.get_by_test_id("iv-questions").fill("1")
        page.get_by_test_id("iv-start").click()
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        said = page.get_by_test_id("iv-reading").inner_text()
        assert {"en": "no voice", "ko": "목소리가 없습니다"}[lang] in said


def test_the_microphone_was_an_emoji_and_a_stale_status_stayed(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, _ = served
    with _open(browser, srv, "en") as page:
        page.goto(f"http://127.0.0.1:{srv.port}/")
        for testid in ("record", "iv-record"):
            button = page.get_by_test_id(testid)
            assert button.locator("svg").count() == 1
            assert "🎙" not in button.inner_text() and button.inner_text().strip() == "Record"
        page.get_by_test_id("mode-interview").click()
        page.get_by_test_id("iv-questions").fill("2")
        page.get_by_test_id("iv-follow").uncheck()
        page.get_by_test_id("iv-start").click()
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        page.evaluate(
            "document.getElementById('iv-record-status').textContent ="
            " 'Transcribed. Edit it, then send.'"
        )  # as a recording leaves it
        page.get_by_test_id("iv-answer").fill(STRONG_EN)
        page.get_by_test_id("iv-answer").press("Control+Enter")
        page.wait_for_function(f"{ANSWERS} > 0")
        page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
        assert page.get_by_test_id("iv-record-status").inner_text() == ""
        # The left column follows the interview rather than standing empty.
        assert page.get_by_test_id("iv-progress").inner_text().startswith("Question 2 of 2")


def test_one_fillers_and_weeks_as_codes(browser: Browser, served: tuple[Server, str]) -> None:
    srv, _ = served
    with _open(browser, srv, "en") as page:
        page.on("dialog", lambda d: d.accept())
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("delete-all").click()
        _feedback(page, QUESTION["en"], "Um, " + STRONG_EN)
        assert "1 filler" in page.get_by_test_id("checklist").inner_text()
        assert "1 fillers" not in page.get_by_test_id("checklist").inner_text()
        page.wait_for_function("!!Chart.getChart(document.getElementById('progress-chart'))")
        labels = page.evaluate(
            "Chart.getChart(document.getElementById('progress-chart')).data.labels"
        )
        assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}\s*[–-]\s*(?:[A-Z][a-z]{2} )?\d{1,2}", x)
                   for x in labels), labels  # fmt: skip
        page.get_by_test_id("language").select_option("ko")
        page.wait_for_function(
            "Chart.getChart(document.getElementById('progress-chart'))"
            ".data.labels.every((l) => l.includes('월'))"
        )


def test_delete_all_confirmed_nothing_and_left_empty_axes(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, _ = served
    with _open(browser, srv, "ko") as page:
        asked: list[str] = []

        def confirm(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", confirm)
        page.goto(f"http://127.0.0.1:{srv.port}/")
        _feedback(page, QUESTION["ko"], WEAK["ko"])
        page.get_by_test_id("delete-all").click()
        page.wait_for_function(
            "document.querySelector('[data-testid=history-status]').textContent.length > 0"
        )
        assert asked and "삭제" in asked[0]
        assert "삭제했습니다" in page.get_by_test_id("history-status").inner_text()
        assert page.get_by_test_id("history-empty").is_visible()
        assert page.get_by_test_id("progress-chart").is_hidden()  # no empty axes
