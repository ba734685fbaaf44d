"""The web chat's privacy notice in a real browser: on the page before the first
message, in the page's language, with the PRIVACY_NOTICE_URL link when the page
is rendered with one.

The page is the channel's own blueprint in a Sanic process that echoes (no
Rasa needed); the "with URL" server is started with ``PRIVACY_NOTICE_URL`` set,
which the channel's own ``render_page`` fills into the page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import WatchedPage, chromium
from tests.support.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
NOTICE_URL = "https://shop.example/privacy?from=chat&x=<b>"

SERVER = """
import sys
from sanic import Sanic
from tests.support.intake_stores import sqlite_intake
from connectors.webchat.channel import WebChatInput

port, seen_db = int(sys.argv[1]), sys.argv[2]
channel = WebChatInput(intake=sqlite_intake(seen_db, "webchat"))

async def on_new_message(message):
    await message.output_channel.send_text_message(message.sender_id, "echo: " + message.text)

app = Sanic("webchat_notice")
app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
app.run(host="127.0.0.1", port=port, access_log=False)
"""


class NoticeServer:
    """The echo page as a process, with ``PRIVACY_NOTICE_URL`` set to ``notice_url`` when given."""

    def __init__(self, tmp_path: Path, notice_url: str) -> None:
        self.notice_url = notice_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = (tmp_path / f"notice-{self.port}.log").open("wb")
        environment = {**os.environ, "BOT_IGNORE_DOTENV": "1", "PRIVACY_NOTICE_URL": notice_url}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port), str(tmp_path / "seen.db")],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, timeout_s=60, what="web chat echo server")

    def _ready(self) -> bool:
        assert self.process.poll() is None, "the echo server exited"
        try:
            return httpx.get(f"{self.url}/webhooks/webchat/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(params=["", NOTICE_URL], ids=["no-url", "with-url"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NoticeServer]:
    running = NoticeServer(tmp_path, request.param)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("locale", "words", "link_text"),
    [
        ("zh-CN", "客服人员看到的个人信息已脱敏", "隐私政策"),
        ("en-US", "agents see personal data masked", "Privacy notice"),
    ],
)
def test_the_notice_is_shown_before_the_first_message(
    server: NoticeServer, browser: Browser, locale: str, words: str, link_text: str
) -> None:
    chat = WatchedPage(browser, locale=locale, width=420, height=760)
    try:
        page = chat.page
        page.goto(f"{server.url}/webhooks/webchat/")
        expect(page.locator("#chat-input")).to_be_enabled(timeout=30_000)
        notice = page.locator("#chat-privacy")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(words)
        expect(page.locator(".turn")).to_have_count(0)  # nothing said yet
        link = page.locator("#chat-privacy-link")
        if server.notice_url:
            expect(link).to_be_visible()
            expect(link).to_have_text(link_text)
            assert link.get_attribute("href") == NOTICE_URL
            assert link.get_attribute("rel") == "noopener noreferrer"
        else:
            expect(link).to_be_hidden()
        # The notice stays above the conversation once it starts.
        page.locator("#chat-input").fill("你好")
        page.locator("#chat-input").press("Enter")
        expect(page.locator(".turn.bot .bubble").last).to_have_text("echo: 你好")
        expect(notice).to_be_visible()
        chat.screenshot(f"webchat-privacy-{locale}-{'link' if server.notice_url else 'plain'}")
        assert chat.errors == []
    finally:
        chat.context.close()
