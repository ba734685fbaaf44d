"""The agents' inbox (``handoff/web/static/``) in a real browser, against the real service.

Debian's Chromium driven by Playwright; the handoff service runs as ``python -m
handoff`` (its own process, SQLite in a temporary directory), talking to the
stand-in Rasa of the service tests (tracker events and the connectors' outbound
route, recorded) and a stand-in shop. Conversations arrive exactly as the Rasa
side sends them (``/api/internal/events`` and ``/api/internal/handoffs`` with
the service token); agents are created through ``POST /api/agents``.

Covered: login errors, queue counts, customer text that looks like HTML, the
context panel, claim, canned response, reply (sent and recorded in the
tracker), private note (not sent), a customer message and a new handoff pushed
live, the language switch, flagging a bot turn, transfer, hand back (resume),
resolve (CSAT prompt), presence, and reconnecting after the service restarts.
Screenshots go to ``test-artifacts/``.

Needs ``apt-get install -y chromium fonts-wqy-microhei`` and the ``playwright``
package of ``handoff/requirements.lock`` (never ``playwright install``: the
system's Chromium is used).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import (
    ADMIN,
    RASA_TOKEN,
    SERVICE_TOKEN,
    bot_event,
    handoff_body,
    service_headers,
    user_event,
)
from tests.support.browser import ARTIFACTS, WatchedPage, chromium
from tests.support.servers import serve_in_thread

ROOT = Path(__file__).resolve().parents[3]
# A real service process per test (migrations, argon2 sign-ins) on a shared 2-core machine.
pytestmark = pytest.mark.timeout(300)
XSS_TEXT = "<img src=x onerror=alert(1)>你好"
PASSWORD = {"alice": "silver-orchard-rain-5", "bob": "copper-meadow-wind-8"}
SECRET_KEY = "browser-test-secret-key-0123456789abcdef"

# Records notifications and oscillators instead of showing and playing them.
STUBS = """
window.__notifications = [];
window.__oscillators = 0;
class RecordedNotification {
  constructor(title, options) { window.__notifications.push({title, body: options.body}); }
  close() {}
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
}
window.Notification = RecordedNotification;
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__oscillators += 1;
  return createOscillator.call(this);
};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium("--autoplay-policy=no-user-gesture-required") as launched:
        yield launched


def _shop() -> Starlette:
    """The shop's ``GET /orders/{id}``: the one order of the seeded conversation."""

    async def order(request: Request) -> JSONResponse:
        if request.path_params["order_id"] != "20241101004":
            return JSONResponse({"error": "not_found"}, 404)
        return JSONResponse(
            {
                "order_id": "20241101004",
                "status": "delivered",
                "total": "299.00",
                "currency": "CNY",
                "items": [{"sku": "SKU-77", "name": "蓝牙耳机 Pro", "quantity": 1}],
                "shipping": {
                    "carrier": "SF Express",
                    "tracking_no": "SF1234567890",
                    "events": [
                        {"time": "2024-11-02T09:00:00+08:00", "description": "已揽收"},
                    ],
                },
            }
        )

    return Starlette(routes=[Route("/orders/{order_id}", order)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """``python -m handoff`` in its own process, with the stand-ins it talks to."""

    def __init__(self, tmp: Path, rasa: FakeRasa, rasa_url: str, shop_url: str) -> None:
        self.rasa = rasa
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "handoff.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HANDOFF_", "SLACK_", "SHOP_", "RASA_"))
            and key not in ("DATABASE_URL", "REDIS_URL")
        }
        self.env.update(
            HANDOFF_ENV="development",
            HANDOFF_HOST="127.0.0.1",
            HANDOFF_PORT=str(self.port),
            HANDOFF_DATABASE_URL=f"sqlite:///{tmp / 'handoff.sqlite3'}",
            HANDOFF_BOOTSTRAP_ADMIN=f"{ADMIN[0]}:{ADMIN[1]}",
            HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN,
            HANDOFF_SECRET_KEY=SECRET_KEY,
            HANDOFF_BUSINESS_HOURS="00:00-23:59",
            HANDOFF_WAIT_ALERT_S="1",
            HANDOFF_LOGIN_WINDOW_S="60",
            RASA_URL=rasa_url,
            RASA_AUTH_TOKEN=RASA_TOKEN,
            SHOP_API_URL=shop_url,
            BOT_VAR_DIR=str(tmp / "var"),
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def start(self, **env: str) -> None:
        """Starts the service (migrations, then uvicorn) and waits for ``/health``."""
        self.env.update(env)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handoff"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail("the handoff service did not start:\n" + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        """Stops the service process (SIGTERM, then SIGKILL)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    # -- the other sides: the Rasa side, the admin, agents' scripts -------------------------

    def token(self, username: str, password: str) -> dict[str, str]:
        response = self.http.post(
            "/api/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def events(self, *events: dict[str, Any]) -> None:
        """What Rasa's event broker posts."""
        response = self.http.post(
            "/api/internal/events", headers=service_headers(), json={"events": list(events)}
        )
        assert response.status_code == 202, response.text

    def hand_off(self, cid: str, **body: Any) -> None:
        """What ``action_handoff`` posts."""
        response = self.http.post(
            "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid, **body)
        )
        assert response.status_code == 201, response.text

    def post(self, path: str, headers: dict[str, str], body: Any = None) -> Any:
        response = self.http.post(path, headers=headers, json=body)
        assert response.is_success, response.text
        return response.json()

    def get(self, path: str, headers: dict[str, str]) -> Any:
        response = self.http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


def _seed(service: Service) -> None:
    """Agents, canned responses and five conversations, through the real APIs."""
    admin = service.token(*ADMIN)
    for username in ("alice", "bob"):
        # No skills: nothing is assigned automatically, the test claims by hand.
        service.post(
            "/api/agents",
            admin,
            {"username": username, "password": PASSWORD[username], "skills": []},
        )
    for shortcut, language, text in (
        ("refund", "zh-Hans", "您好，退款会在审核通过后 1–3 个工作日原路退回。"),
        ("refund", "en", "Refunds go back to your original payment method within 1–3 days."),
        ("thanks", "zh-Hans", "感谢您的耐心等待！"),
        ("track", "en", "Your parcel is on its way; here is the tracking number:"),
    ):
        service.post(
            "/api/canned-responses",
            admin,
            {"shortcut": shortcut, "language": language, "text": text},
        )
    alice = service.token("alice", PASSWORD["alice"])
    bob = service.token("bob", PASSWORD["bob"])
    now = time.time()

    # Urgent, waiting longest: a complaint.
    service.events(
        user_event(
            "telegram:42",
            "Third late parcel. I want to complain!",
            now - 900,
            intent="complain",
            confidence=0.93,
        ),
        bot_event("telegram:42", "I'm sorry. Let me get a colleague for you.", now - 899),
    )
    service.hand_off(
        "telegram:42",
        reason="complaint",
        intent="complain",
        summary="Angry about repeated late deliveries.",
        transcript=[],
    )
    # The bot misunderstood twice; the first customer text looks like HTML.
    cid = "webchat:s-1001"
    service.events(
        user_event(cid, XSS_TEXT, now - 600, intent="greet", confidence=0.38),
        bot_event(cid, "您好！请问有什么可以帮您？", now - 598),
        user_event(
            cid,
            "耳机坏了要退款 订单20241101004",
            now - 560,
            intent="report_defect",
            confidence=0.41,
        ),
        bot_event(cid, "抱歉，我没太明白。可以换个说法吗？", now - 558),
    )
    service.hand_off(
        cid,
        reason="repeated_misunderstanding",
        intent="report_defect",
        language="zh-Hans",
        summary="耳机坏了想退款，订单 20241101004，机器人两次没听懂。",
        slots={"order_id": "20241101004", "language": "zh-Hans"},
        intents=[
            {
                "text": "耳机坏了要退款 订单20241101004",
                "intent": "report_defect",
                "confidence": 0.41,
                "timestamp": now - 560,
            },
            {"text": XSS_TEXT, "intent": "greet", "confidence": 0.38, "timestamp": now - 600},
        ],
        transcript=[
            {"role": "customer", "text": XSS_TEXT, "timestamp": now - 600},
            {"role": "bot", "text": "您好！请问有什么可以帮您？", "timestamp": now - 598},
        ],
        after_sales_cases=[
            {
                "case_id": "AS-000123",
                "type": "refund",
                "status": "refunded",
                "order_id": "20241020005",
            },
        ],
    )
    # Alice's, open, with her first reply.
    service.events(
        user_event("wechat:oAbc123", "转人工", now - 300, intent="request_human", confidence=0.97)
    )
    service.hand_off("wechat:oAbc123", intent="track_shipment", language="zh-Hans", transcript=[])
    service.post("/api/conversations/wechat:oAbc123/assign", alice)
    service.post(
        "/api/conversations/wechat:oAbc123/messages",
        alice,
        {"text": "您好，我是客服小艾。", "private": False},
    )
    # Bob's, open.
    service.hand_off("telegram:77", reason="form_failed", transcript=[])
    service.post("/api/conversations/telegram:77/assign", bob)
    # Resolved earlier today.
    service.hand_off("telegram:88", transcript=[])
    service.post("/api/conversations/telegram:88/assign", alice)
    service.post("/api/conversations/telegram:88/resolve", alice)
    service.post("/api/me/presence", alice, {"online": True})
    service.rasa.requests.clear()  # what the seeding sent is not what the test checks


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """The real service, seeded; the stand-in Rasa records what it is sent."""
    rasa = FakeRasa(service_token=SERVICE_TOKEN, rasa_token=RASA_TOKEN)
    with (
        serve_in_thread(rasa.app(), what="fake Rasa") as rasa_url,
        serve_in_thread(_shop(), what="shop") as shop_url,
    ):
        running = Service(tmp_path, rasa, rasa_url, shop_url)
        running.start()
        try:
            _seed(running)
            yield running
        finally:
            running.stop()
            running.http.close()


@pytest.fixture
def inbox(service: Service) -> str:
    """The inbox's base URL."""
    return service.base_url


class Agent(WatchedPage):
    """A browser tab of one agent, with script errors and failed requests collected."""

    def __init__(self, browser: Browser, base_url: str, locale: str) -> None:
        super().__init__(
            browser, locale=locale, width=1440, height=900, base_url=base_url, init_script=STUBS
        )

    def log_in(self, username: str = "alice", password: str = PASSWORD["alice"]) -> None:
        self.page.goto(f"{self.base_url}/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(password)
        self.page.locator("#login-button").click()
        self.page.wait_for_url(f"{self.base_url}/inbox/**")
        expect(self.page.locator("#live-status")).to_have_attribute("data-state", "online")

    def count(self, name: str) -> Any:
        return self.page.locator(f"#count-{name}")

    def open(self, conversation_id: str) -> None:
        self.page.locator(f'.queue-item[data-id="{conversation_id}"]').click()
        expect(self.page.locator("#conv-title .conv-id")).to_have_text(conversation_id)

    def send(self, text: str) -> None:
        self.page.locator("#reply-input").fill(text)
        self.page.locator("#reply-input").press("Enter")

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def agents(browser: Browser, inbox: str) -> Iterator[list[Agent]]:
    opened: list[Agent] = []
    yield opened
    for agent in opened:
        agent.close()


def test_login_errors_are_shown_in_the_browser_language(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    inbox = service.base_url
    # Someone has been guessing "locked"'s password: the service's limiter blocks it.
    for _ in range(5):
        guess = service.http.post("/api/auth/token", json={"username": "locked", "password": "x"})
        assert guess.status_code == 401
    agent = Agent(browser, inbox, "en-US")
    agents.append(agent)
    page = agent.page
    page.goto(f"{inbox}/login")
    expect(page.locator("h1")).to_have_text("Sign in to the support inbox")
    page.locator("#login-button").click()
    expect(page.locator("#login-error")).to_have_text("Enter your username and password.")

    page.locator("#username").fill("alice")
    page.locator("#password").fill("wrong")
    page.locator("#login-button").click()
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#username")).to_have_attribute("aria-invalid", "true")

    page.locator("#username").fill("locked")
    page.locator("#login-button").click()
    expect(page.locator("#login-error")).to_have_text("Too many attempts. Try again in 60 seconds.")
    page.locator("#lang-toggle").click()
    expect(page.locator("h1")).to_have_text("登录客服工作台")
    expect(page.locator("#login-error")).to_have_text("尝试次数过多，请 60 秒后再试。")
    agent.screenshot("inbox-login-errors")

    # Without a session the service sends the agent to the login page.
    page.goto(f"{inbox}/inbox/")
    page.wait_for_url(f"{inbox}/login")
    assert set(agent.bad_responses) == {"401 /api/auth/login", "429 /api/auth/login"}
    # The right password gets in.
    agent.log_in()
    expect(page.locator("#agent-name")).to_have_text("alice")
    assert agent.errors == []


def test_an_agent_works_a_conversation_live(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    inbox = service.base_url
    rasa = service.rasa
    agent = Agent(browser, inbox, "zh-CN")
    agents.append(agent)
    page = agent.page
    agent.log_in()
    expect(page.locator("#agent-name")).to_have_text("alice")
    expect(page.locator("#presence-label")).to_have_text("在线")
    for name, expected in {"pending": "2", "mine": "1", "open": "2", "resolved": "1"}.items():
        expect(agent.count(name)).to_have_text(expected)
    items = page.locator(".queue-item")
    expect(items).to_have_count(2)
    # Urgent first, flagged for waiting too long.
    expect(items.nth(0)).to_have_attribute("data-id", "telegram:42")
    expect(items.nth(0).locator(".badge.urgent")).to_have_text("紧急")
    expect(items.nth(0).locator(".late-label")).to_have_text("等待超时")
    agent.screenshot("inbox-zh-queue")

    # Customer text that looks like HTML is shown as text.
    agent.open("webchat:s-1001")
    customer = page.locator("#transcript .turn.customer .bubble")
    expect(customer.nth(0)).to_have_text(XSS_TEXT)
    assert page.locator("#transcript img").count() == 0
    assert page.locator(".queue-item img").count() == 0
    expect(page.locator("#transcript .turn.bot .intent").first).to_have_text("识别：greet 38%")
    expect(page.locator("#transcript .turn.activity .activity-text").first).to_have_text(
        "机器人转人工：机器人多次未理解"
    )
    context = page.locator("#context")
    expect(context.locator(".reason")).to_have_text("机器人多次未理解")
    expect(context).to_contain_text("20241101004")
    expect(context).to_contain_text("SF1234567890")  # the shop's shipping
    expect(context).to_contain_text("AS-000123")
    expect(context.locator(".intent-bars li")).to_have_count(2)
    # Not held by alice yet: only notes, and a banner says why.
    expect(page.locator("#conv-banner")).to_be_visible()
    expect(page.locator("#note-toggle")).to_be_checked()
    agent.screenshot("inbox-zh-conversation")

    page.get_by_role("button", name="接入").click()
    expect(page.locator("#conv-banner")).to_be_hidden()
    expect(page.locator("#note-toggle")).not_to_be_checked()
    expect(agent.count("pending")).to_have_text("1")
    expect(agent.count("mine")).to_have_text("2")
    expect(page.locator("#transcript .turn.activity .activity-text").last).to_have_text(
        "alice 已接入"
    )

    # A canned response by its shortcut, then Enter sends it.
    page.locator("#reply-input").fill("/ref")
    options = page.locator("#canned-list [role=option]")
    expect(options).to_have_count(2)
    expect(options.nth(0).locator(".badge.lang")).to_have_text("zh-Hans")
    page.locator("#reply-input").press("Enter")
    canned = "您好，退款会在审核通过后 1–3 个工作日原路退回。"
    expect(page.locator("#reply-input")).to_have_value(canned)
    expect(page.locator("#canned-list")).to_be_hidden()
    page.locator("#reply-input").press("Shift+Enter")
    page.locator("#reply-input").press_sequentially("请问还有别的问题吗？")
    page.locator("#reply-input").press("Enter")
    reply = page.locator("#transcript .turn.agent").last
    expect(reply.locator(".bubble")).to_have_text(f"{canned}\n请问还有别的问题吗？")
    expect(reply.locator(".author")).to_have_text("alice (我)")
    expect(page.locator("#reply-input")).to_have_value("")
    expect(page.locator("#transcript .turn.agent")).to_have_count(1)  # not twice (POST + live)
    # Out through the web chat connector, and into the tracker marked with the agent.
    said = f"{canned}\n请问还有别的问题吗？"
    assert rasa.outbound("webchat") == [{"recipient_id": "webchat:s-1001", "text": said}]
    assert rasa.tracker_events("webchat:s-1001") == [
        {"event": "bot", "text": said, "metadata": {"agent": "alice", "source": "handoff"}}
    ]

    page.locator(".note-toggle").click()
    agent.send("客户情绪稳定，等退款审核")
    note = page.locator("#transcript .turn.agent.private")
    expect(note.locator(".bubble")).to_have_text("客户情绪稳定，等退款审核")
    expect(note.locator(".note-badge")).to_have_text("内部备注")
    assert len(rasa.requests) == 2  # the note went nowhere

    # Pushed over the WebSocket: shown without a reload.
    page.evaluate("window.__sameDocument = true")
    service.events(user_event("webchat:s-1001", "好的<b>谢谢</b>", time.time()))
    expect(customer.last).to_have_text("好的<b>谢谢</b>")
    assert page.locator("#transcript b").count() == 0
    service.hand_off("telegram:555", reason="sensitive_topic", language="zh-Hans")
    expect(page.locator('.queue-item[data-id="telegram:555"]')).to_be_visible()
    expect(agent.count("pending")).to_have_text("2")
    assert page.evaluate("window.__sameDocument") is True
    notifications = page.evaluate("window.__notifications")
    assert notifications == [{"title": "有新会话等待接入", "body": "Telegram · 敏感话题"}]
    assert page.evaluate("window.__oscillators") == 3  # the urgent chime: three notes
    agent.screenshot("inbox-zh-live")

    # English, kept across a reload; the open conversation comes back from the URL.
    page.locator("#lang-toggle").click()
    expect(page.locator(".filter[data-filter=pending] span").first).to_have_text("Pending")
    expect(page.locator("#transcript .turn.activity .activity-text").last).to_have_text(
        "Claimed by alice"
    )
    expect(page.locator("#transcript .turn.bot .flag-button").first).to_have_text(
        "Flag as misunderstood"
    )
    page.reload()
    expect(page.locator(".filter[data-filter=open] span").first).to_have_text("All open")
    expect(page.locator("#conv-title .conv-id")).to_have_text("webchat:s-1001")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Flag the bot's first answer: the picker quotes what the customer said.
    page.locator("#transcript .turn.bot .flag-button").first.click()
    dialog = page.locator("#flag-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#flag-quote")).to_have_text(XSS_TEXT)
    dialog.locator("#flag-search").fill("refund")
    expect(dialog.locator(".intent-option:visible")).to_have_count(2)
    dialog.locator('.intent-option[data-intent="request_refund"]').click()
    dialog.get_by_role("button", name="Save label").click()
    expect(dialog).to_be_hidden()
    flagged = page.locator("#transcript .turn.bot .flagged").first
    expect(flagged).to_have_text("Flagged: should be request_refund")
    alice = service.token("alice", PASSWORD["alice"])
    stored = service.get("/api/conversations/webchat:s-1001", alice)["messages"]
    first_bot = next(m for m in stored if m["role"] == "bot")
    assert first_bot["text"] == "您好！请问有什么可以帮您？"
    assert first_bot["flag"]["intent"] == "request_refund"
    page.reload()  # the flag comes back from the service
    expect(flagged).to_have_text("Flagged: should be request_refund")
    agent.screenshot("inbox-en-flagged")

    assert agent.dialogs == []
    assert agent.errors == []
    assert agent.bad_responses == []


def test_transfer_hand_back_resolve_and_presence(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    rasa = service.rasa
    agent = Agent(browser, service.base_url, "en-US")
    agents.append(agent)
    page = agent.page
    agent.log_in()
    page.locator(".filter[data-filter=mine]").click()
    agent.open("wechat:oAbc123")
    expect(page.locator("#transcript .turn.agent .author")).to_have_text("alice (You)")

    page.get_by_role("button", name="Transfer").click()
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    # Agents to pick from (GET /api/agents), alice herself left out.
    values = dialog.locator("#transfer-agent-options option")
    expect(values).to_have_count(2)
    assert [values.nth(i).get_attribute("value") for i in range(2)] == ["bob", "root"]
    dialog.locator("label", has_text="To a team").click()
    dialog.locator("#transfer-team").select_option("billing")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#conv-meta")).to_contain_text("Unassigned")
    expect(agent.count("mine")).to_have_text("0")
    expect(agent.count("pending")).to_have_text("3")
    expect(page.locator("#transcript .turn.activity .activity-text").last).to_have_text(
        "Transferred to the Billing team by alice"
    )

    page.get_by_role("button", name="Hand back to bot").click()
    expect(page.locator("#conv-banner")).to_have_text("The bot has this conversation again.")
    expect(page.locator("#composer")).to_be_hidden()
    expect(agent.count("pending")).to_have_text("2")
    # The bot talks again: the tracker listens, then resumes.
    assert rasa.tracker_events("wechat:oAbc123") == [
        {"event": "action", "name": "action_listen"},
        {"event": "resume"},
    ]

    page.locator(".filter[data-filter=pending]").click()
    agent.open("telegram:42")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#conv-meta")).to_contain_text("Assigned to alice (You)")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#conv-banner")).to_contain_text("This conversation is resolved.")
    expect(agent.count("resolved")).to_have_text("2")
    prompt = rasa.outbound("telegram")
    assert len(prompt) == 1 and prompt[0]["recipient_id"] == "telegram:42"
    assert [b["payload"] for b in prompt[0]["buttons"]] == ["1", "2", "3", "4", "5"]
    # The prompt is recorded in the tracker; no resume: the bot stays paused until the rating.
    assert [e["event"] for e in rasa.tracker_events("telegram:42")] == ["bot"]

    page.locator("#presence-toggle").click()
    expect(page.locator("#presence-label")).to_have_text("Away")
    expect(page.locator("#presence-toggle")).to_have_attribute("aria-pressed", "false")
    admin = service.token(*ADMIN)
    listed = service.get("/api/agents", admin)["agents"]
    assert next(a for a in listed if a["username"] == "alice")["online"] is False
    # Away: a new handoff updates the queue, without a notification or sound.
    service.hand_off("webchat:s-2")
    expect(page.locator('.queue-item[data-id="webchat:s-2"]')).to_be_visible()
    assert page.evaluate("window.__notifications") == []
    agent.screenshot("inbox-en-resolved")
    assert agent.errors == []
    assert agent.bad_responses == []


def test_a_long_queue_shows_a_page_and_loads_more(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    # Nobody online: every new handoff waits in the pending queue.
    service.post("/api/me/presence", service.token("alice", PASSWORD["alice"]), {"online": False})
    for n in range(55):
        service.hand_off(f"webchat:long-{n:02d}")
    agent = Agent(browser, service.base_url, "en-US")
    agents.append(agent)
    page = agent.page
    agent.log_in()
    items = page.locator(".queue-item")
    expect(items).to_have_count(50)
    waiting = int(agent.count("pending").inner_text())
    assert 55 < waiting <= 99
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(items).to_have_count(waiting)
    expect(more).to_be_hidden()
    # A live update reloads every row shown so far, not just the first page.
    service.hand_off("webchat:long-99")
    expect(page.locator('.queue-item[data-id="webchat:long-99"]')).to_be_visible()
    expect(items).to_have_count(waiting + 1)
    assert agent.errors == []
    assert agent.bad_responses == []


def test_the_inbox_reconnects_after_the_service_restarts(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    agent = Agent(browser, service.base_url, "zh-CN")
    agents.append(agent)
    page = agent.page
    agent.log_in()
    agent.open("telegram:42")
    page.evaluate(
        """() => {
            window.__liveStates = [];
            const el = document.getElementById("live-status");
            new MutationObserver(() => window.__liveStates.push(el.dataset.state))
                .observe(el, {attributes: true});
        }"""
    )
    service.stop()
    expect(page.locator("#live-status")).not_to_have_attribute("data-state", "online")
    service.start()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online", timeout=30_000)
    assert "reconnecting" in page.evaluate("window.__liveStates")
    service.events(user_event("telegram:42", "still there?", time.time()))
    expect(page.locator("#transcript .turn.customer .bubble").last).to_have_text("still there?")
    agent.screenshot("inbox-zh-reconnected")
    # Chromium logs the refused connections while the service was down; nothing else.
    assert agent.errors
    assert all(e.startswith("WebSocket connection to") for e in agent.errors), agent.errors
    assert agent.bad_responses == []

    # A new secret key ends every session: the socket is refused (4401) and the
    # inbox goes to the login page instead of retrying.
    service.stop()
    service.start(HANDOFF_SECRET_KEY="another-browser-test-secret-key-9876543210")
    # Polled, not awaited as one navigation: the socket's refusal and a refused
    # request can both send the page to the login, and the second navigation
    # aborts the first (net::ERR_ABORTED in wait_for_url).
    expect(page).to_have_url(f"{service.base_url}/login", timeout=30_000)


def test_a_reply_the_platform_refused_is_marked_and_sent_again(
    browser: Browser, service: Service, agents: list[Agent]
) -> None:
    # WeChat's 48-hour window: said as such, not retried; "send again" once it reopens.
    service.rasa.refuse_outbound = "WeChat errcode 45015: response out of time limit"
    service.hand_off("wechat:o-window")
    agent = Agent(browser, service.base_url, "en-US")
    agents.append(agent)
    page = agent.page
    agent.log_in()
    agent.open("wechat:o-window")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#conv-banner")).to_be_hidden()
    agent.send("Your refund is approved")
    failed = page.locator("#transcript .turn.agent.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".delivery-reason")).to_contain_text(
        "Not delivered: WeChat's 48-hour window is closed"
    )
    agent.screenshot("inbox-reply-not-delivered")
    assert len(service.rasa.outbound("wechat")) == 1  # not retried

    service.rasa.refuse_outbound = None
    failed.get_by_role("button", name="Send again").click()
    expect(page.locator("#transcript .turn.agent.failed")).to_have_count(0)
    replies = page.locator("#transcript .turn.agent .bubble")
    expect(replies).to_have_count(1)  # the same message, now sent: not a second one
    expect(replies).to_have_text("Your refund is approved")
    assert [body["text"] for body in service.rasa.outbound("wechat")] == [
        "Your refund is approved"
    ] * 2
    assert len(service.rasa.tracker_events("wechat:o-window")) == 1
    assert agent.errors == []
    assert [bad.split()[0] for bad in agent.bad_responses] == ["502"]  # the refused send only
