"""Debian's Chromium under Playwright, shared by every browser test.

``apt-get install -y chromium fonts-wqy-microhei`` (``make browser``) provides
it; never ``playwright install``. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """A headless Chromium, closed on exit; a clear failure when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium fonts-wqy-microhei")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()
