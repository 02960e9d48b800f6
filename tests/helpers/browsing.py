"""A Chromium page whose uncaught script errors fail the test that used it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import BrowserContext, Page


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
