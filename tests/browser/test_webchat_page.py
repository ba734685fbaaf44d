"""The web chat page in a real browser (Debian's Chromium, driven by Playwright).

Against the real stack: an order question in Chinese, a button in English,
a reload that shows the history, customer text that looks like HTML. Against
a small echo server that the test stops and starts: the page reconnects and
keeps its session. Screenshots go to ``test-artifacts/`` (git-ignored).

Needs ``apt-get install -y chromium fonts-wqy-microhei`` and the ``playwright``
package (never ``playwright install``: the system's Chromium is used).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    expect,
)

from tests.support.browser import WatchedPage, chromium
from tests.support.handoff_client import HandoffClient
from tests.support.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
BOT_REPLY_TIMEOUT_MS = 60_000
STORAGE_KEY = "shop-assistant:webchat:session"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


class Watched(WatchedPage):
    """The web chat page in a phone-sized window."""

    def __init__(self, browser: Browser, locale: str) -> None:
        super().__init__(browser, locale=locale, width=420, height=760)

    def open(self, url: str) -> None:
        self.page.goto(url)
        expect(self.page.locator("#chat-input")).to_be_enabled(timeout=30_000)

    def say(self, text: str) -> None:
        self.page.locator("#chat-input").fill(text)
        self.page.locator("#chat-input").press("Enter")

    def watch_typing(self) -> None:
        # The reply can come quickly: record that the dots were ever shown.
        self.page.evaluate(
            """() => {
                const typing = document.getElementById("chat-typing");
                window.typingSeen = false;
                new MutationObserver(() => { if (!typing.hidden) window.typingSeen = true; })
                    .observe(typing, {attributes: true});
            }"""
        )

    def session_id(self) -> str:
        return str(self.page.evaluate(f"localStorage.getItem({STORAGE_KEY!r})"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[list[Watched]]:
    pages: list[Watched] = []
    yield pages
    for page in pages:
        page.close()


# --- against the real stack --------------------------------------------------------


def _thumbed_down(stack: Any, conversation_id: str) -> dict[str, Any]:
    """The trainers' queue items of ``conversation_id`` with the reason thumbs_down."""
    trainer = HandoffClient.admin(stack.handoff)
    listed = trainer.http.get(
        "/api/annotations", params={"status": "new", "reason": "thumbs_down", "limit": 1000}
    )
    listed.raise_for_status()
    texts = []
    for item in listed.json()["items"]:
        detail = trainer.http.get(f"/api/annotations/{item['id']}").json()
        texts += [
            member["text"]
            for member in detail["members"]
            if member["conversation_id"] == conversation_id and "thumbs_down" in member["reasons"]
        ]
    return {"texts": texts, "items": listed.json()["items"]}


@pytest.mark.stack
def test_an_order_question_in_chinese_is_answered_and_survives_a_reload(
    stack: Any, browser: Browser, watched: list[Watched]
) -> None:
    chat = Watched(browser, "zh-CN")
    watched.append(chat)
    chat.open(f"{stack.rasa_url}/webhooks/webchat/")
    page = chat.page
    expect(page.locator("#chat-title")).to_have_text("在线客服")
    expect(page.locator("#chat-input")).to_have_attribute("placeholder", "输入消息…")
    expect(page.locator("#chat-status")).to_have_text("在线")

    chat.watch_typing()
    chat.say("订单20241105001到哪了")
    expect(page.locator(".turn.user .bubble").last).to_have_text("订单20241105001到哪了")
    answer = page.locator(".turn.bot .bubble", has_text="SF1234567890")
    expect(answer).to_be_visible(timeout=BOT_REPLY_TIMEOUT_MS)
    expect(page.locator("#chat-typing")).to_be_hidden()
    assert page.evaluate("window.typingSeen") is True
    chat.screenshot("webchat-zh-order")

    # A thumbs-down on the answer puts the question it answered in the trainers' queue.
    thumbs = page.locator(".turn.bot", has_text="SF1234567890").first.locator(".thumbs-down")
    expect(thumbs).to_have_attribute("aria-label", "这个回答没有帮助")
    thumbs.click()
    expect(thumbs).to_have_attribute("aria-pressed", "true", timeout=15_000)
    expect(thumbs).to_be_disabled()
    queued = _thumbed_down(stack, f"webchat:{chat.session_id()}")
    assert "订单20241105001到哪了" in queued["texts"], queued
    chat.screenshot("webchat-zh-thumbs-down")

    markup = "<img src=x onerror=alert(1)>"
    chat.say(markup)
    expect(page.locator(".turn.user .bubble").last).to_have_text(markup)
    expect(page.locator(".turn.bot")).not_to_have_count(1, timeout=BOT_REPLY_TIMEOUT_MS)
    assert page.locator("#chat-log img").count() == 0
    session_id = chat.session_id()

    page.reload()
    expect(page.locator("#chat-input")).to_be_enabled(timeout=30_000)
    users = page.locator(".turn.user .bubble")
    expect(users).to_have_count(2)
    expect(users.nth(0)).to_have_text("订单20241105001到哪了")
    expect(users.nth(1)).to_have_text(markup)
    expect(page.locator(".turn.bot .bubble", has_text="SF1234567890")).to_be_visible()
    assert page.locator("#chat-log img").count() == 0
    assert chat.session_id() == session_id
    chat.screenshot("webchat-zh-reloaded")
    assert chat.dialogs == []
    assert chat.errors == []
    assert chat.bad_responses == []


@pytest.mark.stack
def test_a_button_is_clicked_in_english_and_its_title_is_kept(
    stack: Any, browser: Browser, watched: list[Watched]
) -> None:
    chat = Watched(browser, "en-US")
    watched.append(chat)
    chat.open(f"{stack.rasa_url}/webhooks/webchat/")
    page = chat.page
    expect(page.locator("#chat-title")).to_have_text("Customer service")

    chat.say("cancel order 20241113018")
    keep = page.get_by_role("button", name="No, keep it")
    expect(keep).to_be_visible(timeout=BOT_REPLY_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Yes, cancel it")).to_be_enabled()
    chat.screenshot("webchat-en-buttons")
    bots_before = page.locator(".turn.bot").count()

    keep.click()
    expect(page.locator(".turn.user .bubble").last).to_have_text("No, keep it")
    expect(keep).to_be_disabled()
    expect(page.get_by_role("button", name="Yes, cancel it")).to_be_disabled()
    expect(page.locator(".turn.bot")).not_to_have_count(bots_before, timeout=BOT_REPLY_TIMEOUT_MS)
    chat.screenshot("webchat-en-button-clicked")

    page.reload()
    expect(page.locator("#chat-input")).to_be_enabled(timeout=30_000)
    users = page.locator(".turn.user .bubble")
    expect(users).to_have_count(2)
    expect(users.nth(0)).to_have_text("cancel order 20241113018")
    expect(users.nth(1)).to_have_text("No, keep it")
    # Buttons already answered are shown, but no longer clickable.
    expect(page.get_by_role("button", name="No, keep it")).to_be_disabled()
    chat.screenshot("webchat-en-reloaded")
    assert chat.errors == []
    assert chat.bad_responses == []

    shop_order = httpx.get(f"{stack.shop_url}/orders/20241113018", timeout=5)
    if shop_order.status_code == 200:
        assert shop_order.json().get("status") != "cancelled"


# --- reconnecting after a server restart -------------------------------------------

# The channel's blueprint in a Sanic server that echoes: a process the test can
# stop and start again on the same port, as a deploy restarts the Rasa server.
ECHO_SERVER = """
import sys
from sanic import Sanic
from tests.support.intake_stores import sqlite_intake
from connectors.webchat.channel import WebChatInput

port, seen_db = int(sys.argv[1]), sys.argv[2]
channel = WebChatInput(intake=sqlite_intake(seen_db, "webchat"))

async def on_new_message(message):
    await message.output_channel.send_text_message(message.sender_id, "echo: " + message.text)

app = Sanic("webchat_echo")
app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
app.run(host="127.0.0.1", port=port, access_log=False)
"""


class EchoServer:
    """The echo server as a process on a fixed port."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen_db = tmp_path / "seen.db"
        self.log = tmp_path / "echo.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", ECHO_SERVER, str(self.port), str(self.seen_db)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, timeout_s=60, what="echo server")

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        return httpx.get(f"{self.url}/webhooks/webchat/health", timeout=2).status_code == 200

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[EchoServer]:
    server = EchoServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_page_reconnects_after_a_server_restart_and_keeps_its_session(
    echo_server: EchoServer, browser: Browser, watched: list[Watched]
) -> None:
    chat = Watched(browser, "zh-TW")
    watched.append(chat)
    chat.open(f"{echo_server.url}/webhooks/webchat/")
    page = chat.page
    expect(page.locator("#chat-title")).to_have_text("線上客服")
    chat.say("你好")
    expect(page.locator(".turn.bot .bubble").last).to_have_text("echo: 你好")
    session_id = chat.session_id()

    echo_server.stop()
    expect(page.locator("#chat-status")).not_to_have_attribute("data-state", "online")
    # Written while the server is down: kept and sent once it is back.
    chat.say("還在嗎")
    echo_server.start()
    expect(page.locator("#chat-status")).to_have_attribute("data-state", "online", timeout=30_000)
    expect(page.locator(".turn.bot .bubble").last).to_have_text("echo: 還在嗎", timeout=30_000)
    chat.say("再來一次")
    expect(page.locator(".turn.bot .bubble").last).to_have_text("echo: 再來一次")
    assert chat.session_id() == session_id
    # Each message answered exactly once, the queued one included.
    expect(page.locator(".turn.bot .bubble")).to_have_count(3)
    chat.screenshot("webchat-zh-hant-reconnected")
    assert chat.errors == []
    # The echo server has no tracker store: only the history fails (503).
    history = f"503 {echo_server.url}/webhooks/webchat/history?session_id={session_id}"
    assert set(chat.bad_responses) == {history}
