"""A Chromium page whose uncaught script errors fail the test that used it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page


def speaking(browser: Browser, locale: str, voices: bool = True) -> BrowserContext:
    """A context of `browser` allowed the microphone, whose `speechSynthesis` (silent in
    headless Chromium) is a stub that keeps what it was asked to say (`__spoken`) and in
    which language (`__spokenLangs`), and says it ended 50 ms later."""
    context = browser.new_context(locale=locale, bypass_csp=True)
    context.grant_permissions(["microphone"])
    listed = f"getVoices: () => [{{ lang: '{locale}' }}], " if voices else ""
    context.add_init_script(
        "window.__spoken = []; window.__spokenLangs = [];"
        "window.SpeechSynthesisUtterance = function (text) { this.text = text; };"
        "Object.defineProperty(window, 'speechSynthesis', { value: {"
        " speak: (u) => { window.__spoken.push(u.text); window.__spokenLangs.push(u.lang);"
        "   setTimeout(() => u.onend && u.onend(), 50); },"
        f" {listed}cancel: () => {{}} }} }});"
    )
    return context


@contextmanager
def watched(context: BrowserContext) -> Iterator[Page]:
    """A new page of `context` (closed after); any uncaught error on it fails the test."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def with_microphone(browser: Browser, wav: Path) -> Browser:
    """A second Chromium from `browser`'s Playwright (one sync Playwright per process) whose
    fake microphone plays `wav` once, with autoplay allowed (the interviewer's voice)."""
    from tests.helpers.env import ARGS, CHROMIUM

    fake = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}%noloop",
            "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
    return browser.browser_type.launch(executable_path=CHROMIUM, args=[*ARGS, *fake])
