"""The webhook over real HTTP: Sanic serving the channel's blueprint, WeChat's stand-in API.

A small stand-in for Rasa (``Bot``) records the messages the channel hands
over and answers through the channel's output, as Rasa does; the one test
through the real Rasa server is in ``test_wechat_e2e.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot import settings as bot_settings
from bot.common.text_only import BILINGUAL_REPLY
from bot.settings import Settings
from connectors.wechat.channel import WeChatInput
from connectors.wechat.errors import WeChatConfigError
from connectors.wechat.parse import MAX_BODY_BYTES
from tests.support.sanic_server import serve_sanic
from tests.support.wechat_api import (
    WeChatApi,
    encrypted_push,
    push,
    running_wechat_api,
    signed_query,
)

TOKEN = "shopassistant2024"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_SECRET = "0123456789abcdef0123456789abcdef"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CANCEL_BUTTONS = [
    {"title": "确认取消", "payload": "/affirm"},
    {"title": "先不取消", "payload": "/deny"},
]


@dataclass
class Bot:
    """Stands in for Rasa: records each message and answers through its output channel."""

    received: list[UserMessage] = field(default_factory=list)
    delay_s: float = 0.0
    buttons: list[dict[str, Any]] | None = None

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay_s)
        reply: dict[str, Any] = {"text": f"收到：{message.text}"}
        if self.buttons:
            reply["buttons"] = self.buttons
        await message.output_channel.send_response(message.sender_id, reply)

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.received]


@dataclass
class Webhook:
    """One replica of the channel, served by Sanic on a local port."""

    url: str
    channel: WeChatInput
    bot: Bot
    http: httpx.AsyncClient

    async def post(
        self, body: str | bytes, query: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        content = body.encode() if isinstance(body, str) else body
        params = signed_query(TOKEN) if query is None else query
        return await self.http.post(self.url, params=params, content=content, **kwargs)

    async def settled(self) -> None:
        """Waits until the background work of every accepted push is done."""
        await self.channel.background.wait()


@pytest.fixture
def app_id() -> str:
    return "wx" + uuid.uuid4().hex[:16]


@pytest.fixture
def api(app_id: str) -> Iterator[WeChatApi]:
    with running_wechat_api(app_id=app_id, app_secret=APP_SECRET) as api:
        yield api


@pytest.fixture
def backend() -> str:
    """Where the intake, token and buttons live; tests parametrize it to try Redis too."""
    return "sql"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> Settings:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    if backend == "redis":
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip(f"no Redis at {REDIS_URL}")
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
    return bot_settings.load()


ServeFactory = Callable[..., Any]


@pytest.fixture
async def serve(
    api: WeChatApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ServeFactory]:
    """Starts replicas of the channel: ``await serve(aes_key=…, bot=…)``."""
    # Sanic rewrites its own methods at each start unless in test mode, and
    # fails the second time in one process.
    monkeypatch.setattr(Sanic, "test_mode", True)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10))

        async def start(*, aes_key: str | None = None, bot: Bot | None = None) -> Webhook:
            channel = WeChatInput(
                token=TOKEN,
                app_id=api.app_id,
                app_secret=APP_SECRET,
                aes_key=aes_key,
                api_base_url=api.url,
                settings=settings,
            )
            bot = bot or Bot()
            url = await stack.enter_async_context(_serving(channel, bot))
            return Webhook(url, channel, bot, http)

        yield start


@asynccontextmanager
async def _serving(channel: WeChatInput, bot: Bot) -> AsyncIterator[str]:
    app = Sanic(f"wechat-test-{uuid.uuid4().hex}")
    # The prefix Rasa gives every channel: /webhooks/<name>/
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    async with serve_sanic(app) as url:
        try:
            yield f"{url}/webhooks/wechat/webhook"
        finally:
            await channel.background.wait()


async def test_url_check_echoes_echostr(serve: ServeFactory) -> None:
    webhook = await serve()
    query = signed_query(TOKEN) | {"echostr": "5188255632712089190"}
    answer = await webhook.http.get(webhook.url, params=query)
    assert (answer.status_code, answer.text) == (200, "5188255632712089190")
    forged = query | {"signature": "0" * 40}
    assert (await webhook.http.get(webhook.url, params=forged)).status_code == 403
    assert (await webhook.http.get(webhook.url, params={"echostr": "1"})).status_code == 403


async def test_text_is_acknowledged_then_answered(serve: ServeFactory, api: WeChatApi) -> None:
    webhook = await serve()
    answer = await webhook.post(push("text.xml", Content="我的订单到哪了"))
    assert (answer.status_code, answer.text) == (200, "success")
    await webhook.settled()
    [message] = webhook.bot.received
    assert message.sender_id == "wechat:fromUser"
    assert message.text == "我的订单到哪了"
    assert message.input_channel == "wechat"
    assert message.metadata == {"wechat": {"msg_type": "text", "msg_id": "1234567890123456"}}
    assert api.delivered("fromUser") == [
        {"touser": "fromUser", "msgtype": "text", "text": {"content": "收到：我的订单到哪了"}}
    ]


@pytest.mark.parametrize("backend", ["sql", "redis"])
async def test_retries_are_answered_once(serve: ServeFactory, api: WeChatApi, backend: str) -> None:
    replicas = [await serve(), await serve()]  # behind one load balancer
    openid = "o" + uuid.uuid4().hex[:27]
    xml = push("text.xml", FromUserName=openid, MsgId=str(uuid.uuid4().int % 10**16))
    for attempt in range(4):  # WeChat's push and its three retries
        answer = await replicas[attempt % 2].post(xml)
        assert answer.text == "success"
    for replica in replicas:
        await replica.settled()
    assert sum(len(r.bot.received) for r in replicas) == 1
    assert api.texts(openid) == ["收到：this is a test"]


@pytest.mark.parametrize(
    "query",
    [
        {"signature": "0" * 40},
        {"signature": ""},
        {"timestamp": "1"},
    ],
)
async def test_forged_signature_is_refused(
    serve: ServeFactory, api: WeChatApi, query: dict[str, str]
) -> None:
    webhook = await serve()
    xml = push("text.xml")
    answer = await webhook.post(xml, signed_query(TOKEN) | query)
    assert answer.status_code == 403
    assert (await webhook.post(xml, {})).status_code == 403
    await webhook.settled()
    assert webhook.bot.received == [] and api.attempts == []
    # Nothing was remembered: the genuine push is still answered.
    assert (await webhook.post(xml)).text == "success"
    await webhook.settled()
    assert webhook.bot.texts == ["this is a test"]


@pytest.mark.parametrize(
    "body",
    [
        "<xml><ToUserName>toUser</ToUserName>",
        "hello",
        "<xml><MsgType>text</MsgType></xml>",
        "你好".encode("gbk"),
    ],
)
async def test_malformed_xml_is_refused(serve: ServeFactory, body: str | bytes) -> None:
    webhook = await serve()
    assert (await webhook.post(body)).status_code == 400
    await webhook.settled()
    assert webhook.bot.received == []


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY name "x">]>' + push("text.xml", Content="&name;"),
        '<?xml version="1.0"?>\n<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/evil.dtd">'
        + push("text.xml"),
        push("text.xml").replace("<xml>", "<xml><!ENTITY e SYSTEM 'file:///etc/passwd'>"),
    ],
)
async def test_document_types_and_entities_are_refused(serve: ServeFactory, body: str) -> None:
    webhook = await serve()
    assert (await webhook.post(body)).status_code == 400
    await webhook.settled()
    assert webhook.bot.received == []


async def test_oversized_body_is_refused(serve: ServeFactory) -> None:
    webhook = await serve()
    padding = "多" * (MAX_BODY_BYTES // 3 + 1)  # 3 bytes each in UTF-8
    big = push("text.xml", Content=padding)
    assert len(big.encode()) > MAX_BODY_BYTES
    assert (await webhook.post(big)).status_code == 413

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length to go by
        for _ in range(MAX_BODY_BYTES // 1000 + 2):
            yield b"x" * 1000

    answer = await webhook.http.post(webhook.url, params=signed_query(TOKEN), content=chunked())
    assert answer.status_code == 413
    await webhook.settled()
    assert webhook.bot.received == []
    # The connection, and the channel, still work afterwards.
    assert (await webhook.post(push("text.xml"))).text == "success"


@pytest.mark.parametrize(
    "name", ["image.xml", "voice.xml", "video.xml", "location.xml", "link.xml"]
)
async def test_other_messages_get_a_polite_reply(
    serve: ServeFactory, api: WeChatApi, name: str
) -> None:
    webhook = await serve()
    assert (await webhook.post(push(name))).text == "success"
    await webhook.settled()
    assert webhook.bot.received == []
    assert api.texts("fromUser") == [BILINGUAL_REPLY]


async def test_unknown_message_type_gets_a_polite_reply(
    serve: ServeFactory, api: WeChatApi
) -> None:
    webhook = await serve()
    assert (await webhook.post(push("text.xml", MsgType="hologram"))).text == "success"
    await webhook.settled()
    assert api.texts("fromUser") == [BILINGUAL_REPLY]


async def test_subscribe_greets_once_and_unsubscribe_is_quiet(
    serve: ServeFactory, api: WeChatApi
) -> None:
    webhook = await serve()
    for _ in range(2):  # a retry has the same sender, time and event
        assert (await webhook.post(push("event_subscribe.xml"))).text == "success"
    assert (await webhook.post(push("event_unsubscribe.xml"))).text == "success"
    await webhook.settled()
    [message] = webhook.bot.received
    assert (message.sender_id, message.text) == ("wechat:FromUser", "/greet")
    assert api.texts("FromUser") == ["收到：/greet"]
    # Subscribing again later is a new event.
    assert (
        await webhook.post(push("event_subscribe.xml", CreateTime="123456999"))
    ).status_code == 200
    await webhook.settled()
    assert webhook.bot.texts == ["/greet", "/greet"]


@pytest.mark.parametrize("backend", ["sql", "redis"])
async def test_buttons_become_numbers_and_numbers_their_payloads(
    serve: ServeFactory, api: WeChatApi, backend: str
) -> None:
    asking = await serve(bot=Bot(buttons=CANCEL_BUTTONS))
    other_replica = await serve()
    openid = "o" + uuid.uuid4().hex[:27]

    def text(content: str) -> str:
        return push(
            "text.xml", FromUserName=openid, Content=content, MsgId=str(uuid.uuid4().int % 10**16)
        )

    await asking.post(text("取消订单 1001"))
    await asking.settled()
    assert api.texts(openid) == ["收到：取消订单 1001\n1. 确认取消\n2. 先不取消"]

    await other_replica.post(text(" 1 "))
    await other_replica.settled()
    assert other_replica.bot.texts == ["/affirm"]
    # The choice is used up: a later "1" is just the customer's text.
    await other_replica.post(text("1"))
    await other_replica.settled()
    assert other_replica.bot.texts == ["/affirm", "1"]


async def test_numbers_out_of_range_or_other_text_pass_unchanged(
    serve: ServeFactory, api: WeChatApi
) -> None:
    asking = await serve(bot=Bot(buttons=CANCEL_BUTTONS))
    for content, expected in [("3", "3"), ("2", "/deny"), ("不用了", "不用了"), ("１", "/affirm")]:
        msg_id = str(uuid.uuid4().int % 10**16)
        await asking.post(push("text.xml", Content=content, MsgId=msg_id))
        await asking.settled()
        assert asking.bot.received[-1].text == expected


async def test_safe_mode(serve: ServeFactory, api: WeChatApi) -> None:
    webhook = await serve(aes_key=AES_KEY)
    body, query = encrypted_push(
        push("text.xml", Content="安全模式"), token=TOKEN, aes_key=AES_KEY, app_id=api.app_id
    )
    assert (await webhook.post(body, query | {"msg_signature": "0" * 40})).status_code == 403
    assert (await webhook.post(push("text.xml"))).status_code == 403  # not encrypted
    assert (await webhook.post(body, query)).text == "success"
    await webhook.settled()
    assert webhook.bot.texts == ["安全模式"]
    assert api.texts("fromUser") == ["收到：安全模式"]

    hostile, query = encrypted_push(
        '<!DOCTYPE xml [<!ENTITY e "x">]>' + push("text.xml", MsgId="2"),
        token=TOKEN,
        aes_key=AES_KEY,
        app_id=api.app_id,
    )
    assert (await webhook.post(hostile, query)).status_code == 400


async def test_ack_is_immediate_when_the_bot_is_slow(serve: ServeFactory, api: WeChatApi) -> None:
    webhook = await serve(bot=Bot(delay_s=3))
    started = time.monotonic()
    answer = await webhook.post(push("text.xml", Content="在吗"))
    elapsed = time.monotonic() - started
    assert answer.text == "success"
    assert elapsed < 0.5, f"acknowledged after {elapsed:.2f} s"
    assert api.attempts == []  # the reply is still being written
    await webhook.settled()
    assert api.texts("fromUser") == ["收到：在吗"]


async def test_a_failing_bot_does_not_break_the_webhook(
    serve: ServeFactory, api: WeChatApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each message is tried INTAKE_MAX_FAILURES times, then given up; the next one goes on."""
    monkeypatch.setenv("INTAKE_MAX_FAILURES", "2")
    monkeypatch.setenv("INTAKE_MAX_BACKOFF_S", "0.01")

    class BrokenBot(Bot):
        async def __call__(self, message: UserMessage) -> None:
            self.received.append(message)
            raise RuntimeError("the model is not loaded")

    webhook = await serve(bot=BrokenBot())
    assert (await webhook.post(push("text.xml"))).text == "success"
    await webhook.settled()
    assert (await webhook.post(push("text.xml", MsgId="2"))).text == "success"
    await webhook.settled()
    assert [message.message_id for message in webhook.bot.received] == [
        "wechat:toUser:msg:1234567890123456"
    ] * 2 + ["wechat:toUser:msg:2"] * 2


def test_refuses_to_start_without_valid_settings(settings: Settings) -> None:
    valid = {"token": TOKEN, "app_id": "wx0123456789abcdef", "app_secret": APP_SECRET}
    channel = WeChatInput.from_credentials(valid | {"aes_key": "", "api_base_url": None})
    assert channel.config.aes_key is None
    assert channel.config.api_base_url == "https://api.weixin.qq.com"
    with pytest.raises(Exception, match="credentials"):
        WeChatInput.from_credentials(None)
    for broken in ({"token": "x"}, {"app_secret": ""}, {"aes_key": "too-short"}):
        with pytest.raises(WeChatConfigError):
            WeChatInput.from_credentials(valid | broken)
