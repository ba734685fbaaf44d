"""``POST /webhooks/<channel>/outbound``: the handoff service speaks through each connector.

Every channel's blueprint is served by Sanic as Rasa mounts it; messages
cross the same output channel as the bot's replies, to the stand-in Bot API,
the stand-in WeChat API or a real socket.io client. A small stand-in for
Rasa records what a replay hands over.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from connectors.outbound import MAX_OUTBOUND_BYTES
from connectors.telegram.channel import TelegramInput
from connectors.telegram.output import TelegramOutput
from connectors.webchat.channel import WebChatInput
from connectors.webchat.output import WebChatOutput
from connectors.wechat.channel import WeChatInput
from connectors.wechat.output import WeChatOutput
from tests.connectors.webchat.test_webchat_channel import Client
from tests.support.intake_stores import sqlite_intake
from tests.support.sanic_server import serve_sanic
from tests.support.telegram_api import TelegramApi, running_telegram_api
from tests.support.wechat_api import WeChatApi, running_wechat_api

SERVICE_TOKEN = "outbound-test-service-token"
AUTH = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = "s3cret-token_for-telegram-tests"
CSAT_BUTTONS = [{"title": str(n), "payload": str(n)} for n in range(1, 6)]


class Rasa:
    """Stands in for Rasa's agent: records what the channel hands over."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)


@pytest.fixture(autouse=True)
def service_token(environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded settings, with the service token the outbound routes demand."""
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", SERVICE_TOKEN)


@asynccontextmanager
async def serving(channel: InputChannel, rasa: Rasa) -> AsyncIterator[httpx.AsyncClient]:
    """Serves the channel's blueprint at ``/webhooks/<name>``; yields a client for it."""
    app = Sanic(f"outbound_test_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.name()}")
    async with serve_sanic(app) as url:
        base_url = f"{url}/webhooks/{channel.name()}"
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
                yield http
        finally:
            await channel.background.wait()  # type: ignore[attr-defined]


# --- Telegram ----------------------------------------------------------------------


@pytest.fixture
def telegram_api() -> Iterator[TelegramApi]:
    with running_telegram_api(TELEGRAM_TOKEN) as api:
        yield api


@pytest.fixture
def telegram(telegram_api: TelegramApi, environment: Path) -> TelegramInput:
    return TelegramInput(
        bot_token=TELEGRAM_TOKEN,
        secret_token=TELEGRAM_SECRET,
        api_base_url=telegram_api.base_url,
        intake=sqlite_intake(environment / "seen.db", "telegram"),
        max_attempts=1,
    )


async def test_an_agent_reply_reaches_the_telegram_chat_with_its_buttons(
    telegram: TelegramInput, telegram_api: TelegramApi
) -> None:
    async with serving(telegram, Rasa()) as http:
        plain = await http.post(
            "/outbound",
            json={"recipient_id": "telegram:1111111", "text": "我是客服小王"},
            headers=AUTH,
        )
        rating = await http.post(
            "/outbound",
            json={
                "recipient_id": "telegram:1111111",
                "text": "请为本次服务打分",
                "buttons": CSAT_BUTTONS,
            },
            headers=AUTH,
        )
    assert (plain.status_code, plain.json()) == (200, {"sent": True})
    assert (rating.status_code, rating.json()) == (200, {"sent": True})
    assert telegram_api.sent_texts(1111111) == ["我是客服小王", "请为本次服务打分"]
    last = telegram_api.calls("sendMessage")[-1]
    # Five buttons: one per row, as for the bot's own buttons.
    assert last.params["reply_markup"] == {
        "inline_keyboard": [[{"text": str(n), "callback_data": str(n)}] for n in range(1, 6)]
    }


async def test_a_telegram_refusal_is_answered_502_with_the_reason(
    telegram: TelegramInput, telegram_api: TelegramApi
) -> None:
    telegram_api.fail_next(1, retry_after=1, method="sendMessage")
    async with serving(telegram, Rasa()) as http:
        refused = await http.post(
            "/outbound", json={"recipient_id": "telegram:1111111", "text": "hello"}, headers=AUTH
        )
        not_a_chat = await http.post(
            "/outbound", json={"recipient_id": "telegram:alice", "text": "hello"}, headers=AUTH
        )
    assert refused.status_code == 502
    assert refused.json()["sent"] is False
    assert "rate-limited" in refused.json()["error"]
    assert not_a_chat.status_code == 400
    assert telegram_api.sent_texts() == []


async def test_a_replayed_telegram_message_reaches_rasa_on_its_channel(
    telegram: TelegramInput, telegram_api: TelegramApi
) -> None:
    rasa = Rasa()
    async with serving(telegram, rasa) as http:
        answer = await http.post(
            "/outbound",
            json={"recipient_id": "telegram:1111111", "replay_text": "where is my parcel"},
            headers=AUTH,
        )
        await telegram.background.wait()
    assert (answer.status_code, answer.json()) == (200, {"sent": True, "replayed": True})
    [message] = rasa.messages
    assert (message.text, message.sender_id) == ("where is my parcel", "telegram:1111111")
    assert message.input_channel == "telegram"
    assert isinstance(message.output_channel, TelegramOutput)
    assert message.output_channel is telegram.get_output_channel()
    assert message.metadata == {"handoff": {"replay": True}}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {SERVICE_TOKEN}", f"Bearer {SERVICE_TOKEN}x"],
)
async def test_without_the_service_token_nothing_is_sent(
    telegram: TelegramInput, telegram_api: TelegramApi, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    rasa = Rasa()
    async with serving(telegram, rasa) as http:
        answer = await http.post(
            "/outbound", json={"recipient_id": "telegram:1", "text": "x"}, headers=headers
        )
        replay = await http.post(
            "/outbound", json={"recipient_id": "telegram:1", "replay_text": "x"}, headers=headers
        )
    assert (answer.status_code, replay.status_code) == (403, 403)
    assert telegram_api.sent_texts() == [] and rasa.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'"text"',
        b"{}",
        b'{"recipient_id": "telegram:1"}',
        b'{"recipient_id": "telegram:1", "text": "  "}',
        b'{"recipient_id": "telegram:1", "text": 5}',
        b'{"recipient_id": "telegram:1", "text": "a", "replay_text": "b"}',
        b'{"recipient_id": "wechat:o1", "text": "a"}',
        b'{"recipient_id": "telegram:", "text": "a"}',
        b'{"recipient_id": 1, "text": "a"}',
        b'{"recipient_id": "telegram:1", "text": "a", "buttons": {"title": "x"}}',
        b'{"recipient_id": "telegram:1", "text": "a", "buttons": [{"title": "x"}]}',
        b'{"recipient_id": "telegram:1", "text": "a", "buttons": ["x"]}',
        b'{"recipient_id": "telegram:1", "replay_text": "a",'
        b' "buttons": [{"title": "x", "payload": "y"}]}',
    ],
)
async def test_malformed_bodies_are_refused(
    telegram: TelegramInput, telegram_api: TelegramApi, body: bytes
) -> None:
    rasa = Rasa()
    async with serving(telegram, rasa) as http:
        answer = await http.post("/outbound", content=body, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["sent"] is False
    assert telegram_api.sent_texts() == [] and rasa.messages == []


async def test_bodies_over_64_kib_are_refused(
    telegram: TelegramInput, telegram_api: TelegramApi
) -> None:
    body = json.dumps({"recipient_id": "telegram:1", "text": "x" * MAX_OUTBOUND_BYTES}).encode()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    async with serving(telegram, Rasa()) as http:
        declared = await http.post("/outbound", content=body, headers=AUTH)
        streamed = await http.post("/outbound", content=chunked(), headers=AUTH)
        forged = await http.post("/outbound", content=body, headers={"Authorization": "Bearer x"})
        just_fits = await http.post(
            "/outbound",
            json={"recipient_id": "telegram:1111111", "text": "y" * (MAX_OUTBOUND_BYTES - 100)},
            headers=AUTH,
        )
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert (declared.status_code, streamed.status_code, forged.status_code) == (413, 413, 403)
    assert just_fits.status_code == 200
    # Telegram takes 4096 characters a message: the long text went out in pieces.
    assert "".join(telegram_api.sent_texts(1111111)) == "y" * (MAX_OUTBOUND_BYTES - 100)


# --- WeChat ------------------------------------------------------------------------


@pytest.fixture
def wechat_api() -> Iterator[WeChatApi]:
    with running_wechat_api(app_id="wx" + uuid.uuid4().hex[:16]) as api:
        yield api


@pytest.fixture
def wechat(wechat_api: WeChatApi, environment: Path) -> WeChatInput:
    return WeChatInput(
        token="shopassistant2024",
        app_id=wechat_api.app_id,
        app_secret=wechat_api.app_secret,
        api_base_url=wechat_api.url,
    )


async def test_an_agent_reply_reaches_the_wechat_customer_buttons_as_numbers(
    wechat: WeChatInput, wechat_api: WeChatApi
) -> None:
    openid = "o" + uuid.uuid4().hex[:27]
    async with serving(wechat, Rasa()) as http:
        answer = await http.post(
            "/outbound",
            json={
                "recipient_id": f"wechat:{openid}",
                "text": "请为本次服务打分",
                "buttons": CSAT_BUTTONS[:2],
            },
            headers=AUTH,
        )
    assert (answer.status_code, answer.json()) == (200, {"sent": True})
    assert wechat_api.texts(openid) == ["请为本次服务打分\n1. 1\n2. 2"]
    # The customer's "2" will mean the second button, as for the bot's buttons.
    assert wechat.get_output_channel().stores.choices.take(openid) == ["1", "2"]


async def test_a_wechat_refusal_is_answered_502_and_recorded(
    wechat: WeChatInput, wechat_api: WeChatApi
) -> None:
    openid = "o" + uuid.uuid4().hex[:27]
    wechat_api.answer_next(45015)
    async with serving(wechat, Rasa()) as http:
        answer = await http.post(
            "/outbound", json={"recipient_id": f"wechat:{openid}", "text": "您好"}, headers=AUTH
        )
    assert answer.status_code == 502
    assert answer.json()["sent"] is False
    assert "45015" in answer.json()["error"]
    output: WeChatOutput = wechat.get_output_channel()
    [failure] = output.stores.failures.recent(recipient=openid)
    assert (failure.errcode, failure.text) == (45015, "您好")


async def test_a_replayed_wechat_message_reaches_rasa_on_its_channel(
    wechat: WeChatInput, wechat_api: WeChatApi
) -> None:
    rasa = Rasa()
    async with serving(wechat, rasa) as http:
        answer = await http.post(
            "/outbound",
            json={"recipient_id": "wechat:oUser1", "replay_text": "我的快递到哪了"},
            headers=AUTH,
        )
        forged = await http.post(
            "/outbound", json={"recipient_id": "wechat:oUser1", "replay_text": "x"}
        )
        await wechat.background.wait()
    assert answer.json() == {"sent": True, "replayed": True}
    assert forged.status_code == 403
    [message] = rasa.messages
    assert (message.text, message.sender_id, message.input_channel) == (
        "我的快递到哪了",
        "wechat:oUser1",
        "wechat",
    )
    assert message.output_channel is wechat.get_output_channel()


# --- web chat ----------------------------------------------------------------------


@pytest.fixture
def webchat(environment: Path) -> WebChatInput:
    return WebChatInput(intake=sqlite_intake(environment / "seen.db", "webchat"))


async def test_an_agent_reply_reaches_every_tab_of_the_web_chat_session(
    webchat: WebChatInput,
) -> None:
    async with serving(webchat, Rasa()) as http:
        base = str(http.base_url).split("/webhooks")[0]
        tab, stranger = Client(), Client()
        await tab.connect(base)
        await stranger.connect(base)
        try:
            session_id = await tab.session()
            await stranger.session()
            answer = await http.post(
                "/outbound",
                json={"recipient_id": f"webchat:{session_id}", "text": "<b>客服</b>小王"},
                headers=AUTH,
            )
            plain = await tab.next("bot_uttered")
            rating = await http.post(
                "/outbound",
                json={
                    "recipient_id": f"webchat:{session_id}",
                    "text": "请打分",
                    "buttons": CSAT_BUTTONS[:2],
                },
                headers=AUTH,
            )
            with_buttons = await tab.next("bot_uttered")
            await stranger.nothing_more()
        finally:
            await tab.close()
            await stranger.close()
    assert (answer.status_code, rating.status_code) == (200, 200)
    assert plain == {"text": "<b>客服</b>小王"}  # as typed; the page escapes it
    assert with_buttons == {
        "text": "请打分",
        "quick_replies": [
            {"content_type": "text", "title": "1", "payload": "1"},
            {"content_type": "text", "title": "2", "payload": "2"},
        ],
    }


async def test_a_replayed_web_chat_message_reaches_rasa_with_the_channels_output(
    webchat: WebChatInput,
) -> None:
    rasa = Rasa()
    async with serving(webchat, rasa) as http:
        answer = await http.post(
            "/outbound",
            json={"recipient_id": "webchat:3a1f0c9e8d7b6a5f", "replay_text": "查物流"},
            headers=AUTH,
        )
        wrong_channel = await http.post(
            "/outbound",
            json={"recipient_id": "telegram:3a1f0c9e8d7b6a5f", "replay_text": "查物流"},
            headers=AUTH,
        )
        await webchat.background.wait()
    assert answer.json() == {"sent": True, "replayed": True}
    assert wrong_channel.status_code == 400
    [message] = rasa.messages
    assert (message.text, message.sender_id, message.input_channel) == (
        "查物流",
        "webchat:3a1f0c9e8d7b6a5f",
        "webchat",
    )
    assert isinstance(message.output_channel, WebChatOutput)
