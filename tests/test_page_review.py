"""In Chromium: the "Practise next" panel, and a shared report opened by a stranger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import create_engine, text

from tests.helpers.server import Server

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
STRONG = (
    "In short, I cut our checkout errors by 60% in six weeks. My task was to fix the payment "
    "page. I traced the failures and I rewrote the retry logic. As a result, errors fell from "
    "5% to 2%."
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('review-page') / 'page.db'}"
    srv = Server({"OFFLINE_TOKENS_PER_SECOND": "0", "DATABASE_URL": url, "SECRET_KEY": "rp"})
    yield srv, url
    srv.stop()


def due_now(url: str) -> None:
    """Every review of the database at `url` due a minute ago."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE reviews SET due_at = :t"),
                     {"t": datetime.now(UTC) - timedelta(minutes=1)})  # fmt: skip
    engine.dispose()


def test_practise_next_lists_what_is_due_and_starts_it_in_one_click(
    browser: Browser, served: tuple[Server, str]
) -> None:
    srv, url = served
    context = browser.new_context(locale="en-US", bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{srv.port}/")
        page.get_by_test_id("review").wait_for()
        assert "Nothing is due" in page.get_by_test_id("review").inner_text()
        page.get_by_test_id("question").fill("Tell me about a time you failed.")
        page.get_by_test_id("answer").fill("We worked hard on it as a team.")
        page.get_by_test_id("ask-feedback").click()
        page.wait_for_selector("[data-testid=status][data-state=done]")
        due_now(url)
        page.reload()
        item = page.locator("[data-testid=review-item]").first
        item.wait_for()
        assert "Tell me about a time you failed." in item.inner_text()
        assert "missing in your last answer" in item.inner_text()
        page.get_by_test_id("question").fill("")
        item.click()
        assert page.get_by_test_id("question").input_value() == "Tell me about a time you failed."
        assert page.evaluate("document.activeElement.dataset.testid") == "answer"
    finally:
        context.close()


def test_a_shared_report_opened_by_a_stranger_runs_nothing_they_wrote(
    browser: Browser, served: tuple[Server, str], tmp_path: Path
) -> None:
    srv, _ = served
    owner = browser.new_context(locale="en-US")
    stranger = browser.new_context(locale="en-US")  # a fresh browser: no cookie of ours
    try:
        page = owner.new_page()
        base = f"http://127.0.0.1:{srv.port}"
        page.goto(base + "/")
        link = page.evaluate(
            """async ([hostile, answer]) => {
              const post = (url, body) => fetch(url, {method: "POST",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
              const read = (url) => fetch(url).then((r) => r.text());
              const made = await (await post("/api/interviews", {language: "en", questions: 1,
                role: hostile, follow_ups: false})).json();
              await read(made.next.stream);
              const fb = await (await post(made.url + "/answers", {answer, turn: 0})).json();
              const done = await read(fb.feedback);
              const next = JSON.parse(done.split("event: done\\ndata: ")[1].split("\\n")[0]).next;
              await read(next.stream);
              return (await (await post(made.url + "/share", {})).json()).url;
            }""",
            [HOSTILE, STRONG],
        )
        seen = stranger.new_page()
        errors: list[str] = []
        seen.on("pageerror", lambda exc: errors.append(str(exc)))
        seen.goto(base + link)
        seen.get_by_test_id("report").wait_for()
        assert HOSTILE in seen.get_by_test_id("report").inner_text()  # shown as text
        assert seen.evaluate("window.__xss") is None and errors == []
        assert seen.locator("img").count() == 0 and seen.locator("main script").count() == 0
        assert seen.evaluate("document.querySelector('meta[name=robots]').content").startswith(
            "noindex"
        )
        assert stranger.cookies() == []  # no identity given to a stranger
    finally:
        owner.close()
        stranger.close()
