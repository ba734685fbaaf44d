"""Debian's Chromium under Playwright, shared by every browser test.

``apt-get install -y chromium fonts-wqy-microhei`` (``make browser``) provides
it; never ``playwright install``. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Response, sync_playwright

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


class WatchedPage:
    """One browser context and its page; script errors, failed requests and dialogs collected.

    Tests assert these lists are empty at the end: a page that "works" while
    throwing in the console or loading a 404 does not pass.
    """

    def __init__(
        self,
        browser: Browser,
        *,
        locale: str,
        width: int,
        height: int,
        base_url: str = "",
        init_script: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            locale=locale, viewport={"width": width, "height": height}
        )
        if init_script:
            self.context.add_init_script(init_script)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.bad_responses: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        # Failed loads are reported, with their URL, by _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            path = response.url.removeprefix(self.base_url)
            self.bad_responses.append(f"{response.status} {path}")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
