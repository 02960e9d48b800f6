"""The page for everyone: no axe-core violation on any view, a whole mock interview with
the keyboard alone, live text announced politely, and a first load with no failed request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.helpers.browsing import watched
from tests.helpers.server import Server

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
STRONG_EN = (
    "In short, I cut our checkout errors by 60% in six weeks. Our payment page failed for "
    "one order in twenty, and my task was to find out why. I traced the failures, I rewrote "
    "the retry logic and I added alerts. As a result, errors fell from 5% to 2% and refunds "
    "dropped by a third."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'page.db'}"
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "DATABASE_URL": url, "SECRET_KEY": "a11y"})
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    # axe-core is injected as a script, which the page's CSP (rightly) forbids.
    with watched(browser.new_context(locale="en-US", bypass_csp=True)) as pg:
        yield pg


def violations(page: Page) -> list[dict[str, Any]]:
    """Every axe-core violation of any impact on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
            .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) }))"""
    )
    return found


def test_a_first_load_asks_for_nothing_that_fails(browser: Browser, server: Server) -> None:
    # Regression: every first load asked for /favicon.ico and got a 404 (a console error).
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        failed: list[str] = []
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{server.port}/", wait_until="networkidle")
        assert failed == []
    finally:
        context.close()


def test_every_view_has_no_axe_violations(page: Page, server: Server) -> None:
    # Regression: `region` (content outside landmarks) on the practice and interview views.
    page.goto(f"http://127.0.0.1:{server.port}/")
    page.get_by_test_id("bank").wait_for()
    assert violations(page) == [], "practice, empty"
    page.get_by_test_id("question").fill("Tell me about a time you fixed a failing system.")
    page.get_by_test_id("answer").fill(STRONG_EN)
    page.get_by_test_id("ask-feedback").click()
    page.wait_for_selector("[data-testid=status][data-state=done]")
    page.locator(".attempt-link").first.click()
    page.get_by_test_id("attempt").wait_for()
    assert violations(page) == [], "practice with feedback, rubric and an attempt opened"

    page.get_by_test_id("mode-interview").click()
    assert violations(page) == [], "interview setup"
    page.get_by_test_id("iv-questions").fill("1")
    page.get_by_test_id("iv-start").click()
    page.wait_for_selector("[data-testid=iv-answer-box]:not([hidden])")
    assert violations(page) == [], "interview, awaiting an answer"
    while not page.get_by_test_id("iv-report-link").is_visible():
        page.get_by_test_id("iv-answer").fill(STRONG_EN)
        page.get_by_test_id("iv-answer").press("Control+Enter")
        page.wait_for_function(
            "!document.getElementById('iv-answer-box').hidden"
            " || !document.getElementById('iv-report-link').hidden",
            timeout=20_000,
        )
    assert violations(page) == [], "interview with its report"
    page.goto(
        f"http://127.0.0.1:{server.port}"
        + page.get_by_test_id("iv-report-link").get_attribute("href")
    )
    assert violations(page) == [], "the printable report"


def test_streaming_output_is_announced_politely(page: Page, server: Server) -> None:
    page.goto(f"http://127.0.0.1:{server.port}/")
    output = page.get_by_test_id("output")
    assert output.get_attribute("aria-live") == "polite"
    assert page.get_by_test_id("iv-transcript").get_attribute("aria-live") == "polite"
    page.get_by_test_id("question").fill("Why this company?")
    page.get_by_test_id("ask-answer").click()
    page.wait_for_selector("[data-testid=status][data-state=done]")
    assert output.get_attribute("aria-busy") == "false"


def _tab_to(page: Page, testid: str, limit: int = 80) -> None:
    """Press Tab until the element `testid` has the focus, as a keyboard user does."""
    for _ in range(limit):
        if (
            page.evaluate("document.activeElement && document.activeElement.dataset.testid")
            == testid
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{testid} cannot be reached with Tab")


def test_a_whole_mock_interview_with_the_keyboard_alone(page: Page, server: Server) -> None:
    page.goto(f"http://127.0.0.1:{server.port}/")
    page.get_by_test_id("bank").wait_for()
    _tab_to(page, "mode-interview")
    page.keyboard.press("Enter")
    _tab_to(page, "iv-questions")
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    _tab_to(page, "iv-start")
    page.keyboard.press("Enter")
    answered = 0
    while True:
        page.wait_for_function(
            "!document.getElementById('iv-answer-box').hidden"
            " || !document.getElementById('iv-report-link').hidden",
            timeout=20_000,
        )
        if page.get_by_test_id("iv-report-link").is_visible():
            break
        # The answer box takes the focus when the interviewer has finished asking.
        assert page.evaluate("document.activeElement.dataset.testid") == "iv-answer"
        page.keyboard.type(STRONG_EN)
        page.keyboard.press("Control+Enter")
        answered += 1
        page.wait_for_function(
            f"document.querySelectorAll('#iv-transcript li[data-kind=answer]').length >= {answered}"
        )
    # The report is ready and focused: Enter opens its printable page.
    assert page.evaluate("document.activeElement.dataset.testid") == "iv-report-link"
    assert answered >= 1
