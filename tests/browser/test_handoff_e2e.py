"""A customer in the web chat and an agent in the inbox, in two real browser contexts.

Against the session's stack with the real handoff service: the customer asks
for a human; an agent (created through the API by the bootstrap admin) signs
in to the inbox, sees the conversation with its context, claims it and
replies; the customer sees the reply; while the agent holds the conversation
the customer's message reaches the inbox live and the bot stays silent; the
agent hands back and the bot answers again. Screenshots go to
``test-artifacts/`` (git-ignored).

Needs Debian's Chromium (``apt-get install -y chromium fonts-wqy-microhei``);
never ``playwright install``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import WatchedPage, chromium
from tests.support.handoff_client import HandoffClient, customer_texts
from tests.support.processes import wait_until

ROOT = Path(__file__).resolve().parents[2]
BOT_REPLY_TIMEOUT_MS = 60_000
LIVE_TIMEOUT_MS = 15_000
# How long the customer waits to be sure the bot says nothing while an agent holds on.
SILENCE_MS = 6_000
STORAGE_KEY = "shop-assistant:webchat:session"

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def windows(browser: Browser) -> Iterator[list[WatchedPage]]:
    opened: list[WatchedPage] = []
    yield opened
    for window in opened:
        window.context.close()


def _customer_says(chat: Page, text: str) -> None:
    chat.locator("#chat-input").fill(text)
    chat.locator("#chat-input").press("Enter")
    expect(chat.locator(".turn.user .bubble").last).to_have_text(text)


def test_a_customer_is_handed_to_an_agent_and_back_to_the_bot(
    stack: Any, browser: Browser, windows: list[WatchedPage]
) -> None:
    assert stack.handoff is not None
    admin = HandoffClient.admin(stack.handoff)
    username, password = admin.create_agent(prefix="alice")

    # The agent signs in first (and so is online when the customer asks).
    agent = WatchedPage(browser, locale="zh-CN", width=1400, height=900)
    windows.append(agent)
    inbox = agent.page
    inbox.goto(f"{stack.handoff.url}/inbox/")
    expect(inbox).to_have_url(f"{stack.handoff.url}/login")
    inbox.locator("#username").fill(username)
    inbox.locator("#password").fill(password)
    inbox.locator("#login-button").click()
    expect(inbox.locator("#agent-name")).to_have_text(username, timeout=LIVE_TIMEOUT_MS)
    expect(inbox.locator("#live-status")).to_have_attribute("data-state", "online")
    # A new account starts away; the agent goes online to take conversations.
    presence = inbox.locator("#presence-toggle")
    expect(presence).to_have_attribute("data-online", "false")
    presence.click()
    expect(presence).to_have_attribute("data-online", "true")

    # The customer asks about an order, then for a human.
    customer = WatchedPage(browser, locale="zh-CN", width=420, height=760)
    windows.append(customer)
    chat = customer.page
    chat.goto(f"{stack.rasa_url}/webhooks/webchat/")
    expect(chat.locator("#chat-input")).to_be_enabled(timeout=30_000)
    _customer_says(chat, "订单20241020005到哪了")
    expect(chat.locator(".turn.bot .bubble", has_text="20241020005").first).to_be_visible(
        timeout=BOT_REPLY_TIMEOUT_MS
    )
    _customer_says(chat, "我要人工")
    expect(chat.locator(".turn.bot .bubble", has_text="人工客服").last).to_be_visible(
        timeout=BOT_REPLY_TIMEOUT_MS
    )
    # An agent is online and business hours cover the day: a place in the queue.
    expect(chat.locator(".turn.bot .bubble").last).to_contain_text("您目前排在第")
    cid = f"webchat:{chat.evaluate(f'localStorage.getItem({STORAGE_KEY!r})')}"
    customer.screenshot("handoff-customer-asks")

    # The new conversation appears in the agent's queue without a reload.
    item = inbox.locator(f'.queue-item[data-id="{cid}"]')
    expect(item).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(item).to_contain_text("客户要求人工")
    item.click()
    expect(inbox.locator("#conv-title")).to_contain_text(cid)
    expect(inbox.locator("#conv-meta")).to_contain_text("zh-Hans")
    context = inbox.locator("#context")
    expect(context).to_contain_text("客户要求人工")  # the reason
    expect(context).to_contain_text("20241020005")  # the order id slot, and the order
    transcript = inbox.locator("#transcript")
    expect(transcript.locator(".turn.customer .bubble")).to_have_text(
        ["订单20241020005到哪了", "我要人工"]
    )
    expect(transcript.locator(".turn.bot").first).to_be_visible()
    agent.screenshot("handoff-inbox-context")

    # The agent claims it and replies; the customer sees the reply.
    inbox.locator("#claim-button").click()
    expect(inbox.locator("#claim-button")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
    reply = "您好，我是客服小李，您的包裹明天送达。"
    inbox.locator("#reply-input").fill(reply)
    inbox.locator("#send-button").click()
    expect(transcript.locator(".turn.agent .bubble", has_text=reply)).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    expect(chat.locator(".turn.bot .bubble", has_text=reply)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    customer.screenshot("handoff-customer-sees-agent")

    # While the agent holds it: the message shows in the inbox live, the bot is silent.
    bot_turns = chat.locator(".turn.bot").count()
    _customer_says(chat, "好的，那我的退款什么时候到账？")
    expect(transcript.locator(".turn.customer .bubble").last).to_have_text(
        "好的，那我的退款什么时候到账？", timeout=LIVE_TIMEOUT_MS
    )
    chat.wait_for_timeout(SILENCE_MS)
    expect(chat.locator(".turn.bot")).to_have_count(bot_turns)
    agent.screenshot("handoff-inbox-live-message")

    # The agent's turn is in the Rasa tracker, marked with the agent.
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{cid}/tracker", timeout=30).json()
    assert tracker["paused"] is True
    agent_turns = [
        e
        for e in tracker["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")
    ]
    assert [(e["text"], e["metadata"]["agent"]) for e in agent_turns] == [(reply, username)]

    # The agent hands back; the bot answers the customer again.
    inbox.locator("#handback-button").click()
    expect(inbox.locator("#handback-button")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)
    agent.screenshot("handoff-inbox-handed-back")
    _customer_says(chat, "订单20241105001到哪了")
    expect(chat.locator(".turn.bot .bubble", has_text="SF1234567890")).to_be_visible(
        timeout=BOT_REPLY_TIMEOUT_MS
    )
    customer.screenshot("handoff-customer-bot-again")

    # The service's record has every customer turn once, and the conversation is the bot's.
    seen = admin.wait_for(cid, lambda c: len(customer_texts(c)) == 4, what="the whole conversation")
    assert customer_texts(seen) == [
        "订单20241020005到哪了",
        "我要人工",
        "好的，那我的退款什么时候到账？",
        "订单20241105001到哪了",
    ]
    assert seen["status"] == "bot"
    for window in windows:
        assert window.errors == []
        assert window.bad_responses == []


def _sign_in(window: WatchedPage, base_url: str, username: str, password: str) -> None:
    window.page.goto(f"{base_url}/login")
    window.page.locator("#username").fill(username)
    window.page.locator("#password").fill(password)
    window.page.locator("#login-button").click()
    expect(window.page.locator("#agent-name")).to_have_text(username, timeout=LIVE_TIMEOUT_MS)


def _hand_off_and_claim(chat: Page, inbox: Page, cid_holder: list[str], ask: str) -> None:
    _customer_says(chat, ask)
    expect(chat.locator(".turn.bot .bubble").last).to_contain_text(
        "您不用重复描述问题", timeout=BOT_REPLY_TIMEOUT_MS
    )
    cid = f"webchat:{chat.evaluate(f'localStorage.getItem({STORAGE_KEY!r})')}"
    cid_holder[:] = [cid]
    inbox.locator('.filter[data-filter="pending"]').click()
    item = inbox.locator(f'.queue-item[data-id="{cid}"]')
    expect(item).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    item.click()
    expect(inbox.locator("#conv-title")).to_contain_text(cid)
    inbox.locator("#claim-button").click()
    expect(inbox.locator("#claim-button")).to_be_hidden(timeout=LIVE_TIMEOUT_MS)


def test_resolve_asks_for_a_rating_and_the_bot_answers_what_is_not_one(
    stack: Any, browser: Browser, windows: list[WatchedPage]
) -> None:
    assert stack.handoff is not None
    admin = HandoffClient.admin(stack.handoff)
    username, password = admin.create_agent(prefix="bob")
    agent = WatchedPage(browser, locale="zh-CN", width=1400, height=900)
    customer = WatchedPage(browser, locale="zh-CN", width=420, height=760)
    windows += [agent, customer]
    inbox, chat = agent.page, customer.page
    _sign_in(agent, stack.handoff.url, username, password)
    chat.goto(f"{stack.rasa_url}/webhooks/webchat/")
    expect(chat.locator("#chat-input")).to_be_enabled(timeout=30_000)
    cid: list[str] = []

    # Resolved: the customer is asked for a rating, taps 5, adds a comment.
    _hand_off_and_claim(chat, inbox, cid, "转人工")
    inbox.locator("#resolve-button").click()
    prompt = chat.locator(".turn.bot .bubble", has_text="请为我们的服务打分")
    expect(prompt).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    five = chat.get_by_role("button", name="5", exact=True)
    expect(five).to_be_enabled()
    customer.screenshot("handoff-csat-prompt")
    five.click()
    expect(chat.locator(".turn.bot .bubble", has_text="谢谢您的评分").last).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    _customer_says(chat, "客服很耐心")
    expect(chat.locator(".turn.bot .bubble", has_text="感谢您的反馈").last).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    resolved = admin.wait_for(
        cid[0], lambda c: c["status"] == "resolved", what="the resolved conversation"
    )
    assert resolved["context"]["history"]["csat_average"] == 5
    # The rating is over: the conversation is the bot's again.
    wait_until(
        lambda: (
            httpx.get(f"{stack.rasa_url}/conversations/{cid[0]}/tracker", timeout=30).json()[
                "paused"
            ]
            is False
        ),
        timeout_s=LIVE_TIMEOUT_MS / 1000,
        what="the resume after the rating",
    )
    _customer_says(chat, "订单20241105001到哪了")
    expect(chat.locator(".turn.bot .bubble", has_text="SF1234567890").last).to_be_visible(
        timeout=BOT_REPLY_TIMEOUT_MS
    )

    # Resolved again; this time the customer asks a question instead of rating:
    # the bot answers it (once), nothing is lost.
    _hand_off_and_claim(chat, inbox, cid, "我要人工")
    inbox.locator("#resolve-button").click()
    expect(prompt.nth(1)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    answers_before = chat.locator(".turn.bot .bubble", has_text="SF1234567890").count()
    _customer_says(chat, "订单20241105001到哪了")
    expect(chat.locator(".turn.bot .bubble", has_text="SF1234567890")).to_have_count(
        answers_before + 1, timeout=BOT_REPLY_TIMEOUT_MS
    )
    chat.wait_for_timeout(3_000)  # and no second answer
    expect(chat.locator(".turn.bot .bubble", has_text="SF1234567890")).to_have_count(
        answers_before + 1
    )
    customer.screenshot("handoff-csat-replayed")
    seen = admin.wait_for(cid[0], lambda c: not c["messages"][-1]["role"] == "customer")
    assert customer_texts(seen).count("订单20241105001到哪了") == 2
    for window in windows:
        assert window.errors == []
        assert window.bad_responses == []
