"""The Telegram webhook over real HTTP, answering through a stand-in Bot API.

The channel's blueprint is served by Sanic (as Rasa serves it) on a free
port; instead of Rasa, ``on_new_message`` records the customer's messages and
answers through the channel's own output, so every reply crosses the real
outbound path to the stand-in Bot API (tests/support/telegram_api.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot import settings
from connectors.intake.store import Received, position
from connectors.telegram.channel import MAX_BODY_BYTES, SECRET_HEADER, TelegramInput
from connectors.telegram.errors import TelegramConfigError, TelegramSendError
from connectors.telegram.parse import parse_update
from tests.support.intake_stores import sqlite_intake
from tests.support.sanic_server import serve_sanic
from tests.support.telegram_api import TelegramApi, running_telegram_api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret-token_for-telegram-tests"
WEBHOOK_URL = "https://shop.example/webhooks/telegram/webhook"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class RecordingRasa:
    """Stands in for Rasa's agent: records messages, answers through their channel."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


@pytest.fixture
def api() -> Iterator[TelegramApi]:
    with running_telegram_api(TOKEN) as api:
        yield api


def make_channel(api: TelegramApi, **credentials: str) -> TelegramInput:
    section = {"bot_token": TOKEN, "secret_token": SECRET, "api_base_url": api.base_url}
    return TelegramInput.from_credentials(section | credentials)


@asynccontextmanager
async def serving(channel: TelegramInput, rasa: RecordingRasa) -> AsyncIterator[str]:
    """Serves the channel's blueprint the way Rasa mounts it; yields the webhook URL."""
    app = Sanic(f"telegram_test_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(rasa), url_prefix="/webhooks/telegram")
    async with serve_sanic(app) as url:
        yield f"{url}/webhooks/telegram/webhook"


@asynccontextmanager
async def webhook(
    api: TelegramApi, rasa: RecordingRasa | None = None, **credentials: str
) -> AsyncIterator[tuple[TelegramInput, httpx.AsyncClient, str]]:
    channel = make_channel(api, **credentials)
    async with serving(channel, rasa or RecordingRasa()) as url, httpx.AsyncClient() as client:
        yield channel, client, url


async def post(
    client: httpx.AsyncClient, url: str, body: Any, *, secret: str | None = SECRET
) -> httpx.Response:
    """Posts an update as Telegram does: JSON, with the secret header (unless None)."""
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(url, content=content, headers=headers)


async def test_text_reaches_rasa_and_the_reply_reaches_the_chat(
    api: TelegramApi, environment: Path
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answer = await post(client, url, fixture("message_text"))
        assert answer.status_code == 200
        await channel.background.wait()
    [message] = rasa.messages
    assert message.text == "Where is my order 20241105001?"
    assert message.sender_id == "telegram:1111111"
    assert message.input_channel == "telegram"
    assert message.metadata == {"language_code": "en"}
    assert api.sent_texts(1111111) == ["echo: Where is my order 20241105001?"]
    # A quick answer needs no "typing…" (Telegram asks for it on slow ones only).
    assert chat_methods(api) == ["sendMessage"]


class SlowRasa(RecordingRasa):
    """Answers after ``answer_after_s``, then keeps working for ``busy_after_s``."""

    def __init__(self, answer_after_s: float, busy_after_s: float = 0.0) -> None:
        super().__init__()
        self.answer_after_s = answer_after_s
        self.busy_after_s = busy_after_s

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await asyncio.sleep(self.answer_after_s)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
        await asyncio.sleep(self.busy_after_s)


def chat_methods(api: TelegramApi) -> list[str]:
    """The Bot API methods called for chats, in the order they arrived."""
    return [call.method for call in api.calls() if call.method != "getMe"]


def quick_typing_channel(api: TelegramApi, typing_after_s: float) -> TelegramInput:
    return TelegramInput(
        bot_token=TOKEN,
        secret_token=SECRET,
        api_base_url=api.base_url,
        intake=sqlite_intake(settings.load().var_dir / "connectors.db", "telegram"),
        typing_after_s=typing_after_s,
    )


async def test_a_slow_answer_shows_typing_before_it(api: TelegramApi, environment: Path) -> None:
    channel = quick_typing_channel(api, typing_after_s=0.1)
    async with serving(channel, SlowRasa(answer_after_s=0.6)) as url, httpx.AsyncClient() as client:
        assert (await post(client, url, fixture("message_text"))).status_code == 200
        await channel.background.wait()
    [typing] = api.calls("sendChatAction")
    assert typing.params == {"chat_id": "1111111", "action": "typing"}
    assert chat_methods(api) == ["sendChatAction", "sendMessage"]


async def test_typing_never_follows_the_answer(api: TelegramApi, environment: Path) -> None:
    """The assistant answers at once and works on: no "typing…" after the answer."""
    channel = quick_typing_channel(api, typing_after_s=0.1)
    rasa = SlowRasa(answer_after_s=0.0, busy_after_s=0.5)
    async with serving(channel, rasa) as url, httpx.AsyncClient() as client:
        assert (await post(client, url, fixture("message_text"))).status_code == 200
        await channel.background.wait()
    assert chat_methods(api) == ["sendMessage"]


async def test_the_webhook_acknowledges_before_the_assistant_answers(
    api: TelegramApi, environment: Path
) -> None:
    finished = asyncio.Event()

    class SlowRasa(RecordingRasa):
        async def __call__(self, message: UserMessage) -> None:
            await asyncio.sleep(1.5)
            await super().__call__(message)
            finished.set()

    async with webhook(api, SlowRasa()) as (channel, client, url):
        started = time.monotonic()
        answer = await post(client, url, fixture("message_text"))
        assert answer.status_code == 200
        assert time.monotonic() - started < 1.0 and not finished.is_set()
        await channel.background.wait()
    assert finished.is_set()


async def test_a_failing_assistant_never_fails_the_webhook(
    api: TelegramApi,
    environment: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each update is tried INTAKE_MAX_FAILURES times, then given up; the next one goes on."""
    monkeypatch.setenv("INTAKE_MAX_FAILURES", "2")
    monkeypatch.setenv("INTAKE_MAX_BACKOFF_S", "0.01")

    class BrokenRasa(RecordingRasa):
        async def __call__(self, message: UserMessage) -> None:
            self.messages.append(message)
            raise RuntimeError("the agent is not loaded")

    rasa = BrokenRasa()
    async with webhook(api, rasa) as (channel, client, url):
        first = await post(client, url, fixture("message_text"))
        await channel.background.wait()
        second = await post(client, url, fixture("message_start"))
        await channel.background.wait()
        assert channel.intake.store.counts() == {"pending": 0, "done": 2}
    assert (first.status_code, second.status_code) == (200, 200)
    assert [message.text for message in rasa.messages] == ["Where is my order 20241105001?"] * 2 + [
        "/greet"
    ] * 2
    assert "the agent is not loaded" in caplog.text


async def test_start_sends_the_welcome_with_the_customers_language(
    api: TelegramApi, environment: Path
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        assert (await post(client, url, fixture("message_start"))).status_code == 200
        await channel.background.wait()
    [message] = rasa.messages
    assert (message.text, message.sender_id) == ("/greet", "telegram:2222222")
    assert message.metadata == {"language_code": "zh-hans"}


async def test_a_retried_update_is_answered_once(api: TelegramApi, environment: Path) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        first = await post(client, url, fixture("message_text"))
        await channel.background.wait()
        second = await post(client, url, fixture("message_text"))
        await channel.background.wait()
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(rasa.messages) == 1
    assert len(api.sent_texts()) == 1


async def test_concurrent_retries_are_answered_once(api: TelegramApi, environment: Path) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answers = await asyncio.gather(*[post(client, url, fixture("message_text"))] * 3)
        await channel.background.wait()
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len(rasa.messages) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-token-for-telegram", SECRET + "x"])
async def test_missing_or_forged_secret_is_refused(
    api: TelegramApi, environment: Path, secret: str | None
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answer = await post(client, url, fixture("message_text"), secret=secret)
        await channel.background.wait()
        # Refused updates are not claimed: the genuine one still goes through.
        genuine = await post(client, url, fixture("message_text"))
        await channel.background.wait()
    assert answer.status_code == 403
    assert genuine.status_code == 200
    assert len(rasa.messages) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"[]", b'"text"', b'{"update_id": "x"}', b"\xff\xfe"]
)
async def test_malformed_bodies_are_refused(
    api: TelegramApi, environment: Path, body: bytes
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answer = await post(client, url, body)
        await channel.background.wait()
    assert answer.status_code == 400
    assert rasa.messages == []
    assert api.sent_texts() == []


async def test_oversized_bodies_are_refused(api: TelegramApi, environment: Path) -> None:
    update = fixture("message_text")
    update["message"]["text"] = "x" * MAX_BODY_BYTES
    body = json.dumps(update).encode()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        declared = await post(client, url, body)
        streamed = await client.post(url, content=chunked(), headers={SECRET_HEADER: SECRET})
        forged = await post(client, url, body, secret="wrong-secret-token-for-telegram")
        await channel.background.wait()
    assert "chunked" not in declared.request.headers.get("transfer-encoding", "")
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert (declared.status_code, streamed.status_code, forged.status_code) == (413, 413, 403)
    assert rasa.messages == []


@pytest.mark.parametrize(
    ("name", "chat_id", "reply"),
    [
        ("sticker", 1111111, "Sorry, I can only read text messages for now."),
        ("photo", 3333333, "抱歉，我目前只能看懂文字訊息"),
        ("voice", 1111111, "抱歉，我目前只能看懂文字消息 / Sorry, I can only read text messages"),
    ],
)
async def test_media_get_a_polite_reply_and_never_reach_rasa(
    api: TelegramApi, environment: Path, name: str, chat_id: int, reply: str
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answer = await post(client, url, fixture(name))
        await channel.background.wait()
    assert answer.status_code == 200
    assert rasa.messages == []
    [sent] = api.sent_texts(chat_id)
    assert sent.startswith(reply)


@pytest.mark.parametrize(
    "name", ["edited_message", "channel_post", "group_message", "callback_query_inline"]
)
async def test_silent_updates_change_nothing(
    api: TelegramApi, environment: Path, name: str
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        calls_at_start = len(api.calls())
        answer = await post(client, url, fixture(name))
        await channel.background.wait()
    assert answer.status_code == 200
    assert rasa.messages == []
    assert api.calls()[calls_at_start:] == []


async def test_button_press_is_answered_and_its_payload_goes_to_rasa(
    api: TelegramApi, environment: Path
) -> None:
    class ButtonRasa(RecordingRasa):
        async def __call__(self, message: UserMessage) -> None:
            self.messages.append(message)
            await message.output_channel.send_text_with_buttons(
                message.sender_id,
                "Cancel order 20241105001?",
                [
                    {"title": "Yes, cancel it", "payload": "/affirm"},
                    {"title": "No, keep it", "payload": "/deny"},
                ],
            )

    rasa = ButtonRasa()
    async with webhook(api, rasa) as (channel, client, url):
        answer = await post(client, url, fixture("callback_query"))
        await channel.background.wait()
    assert answer.status_code == 200
    [message] = rasa.messages
    assert (message.text, message.sender_id) == ("/affirm", "telegram:1111111")
    assert message.metadata == {"language_code": "en"}
    methods = [call.method for call in api.calls()]
    assert methods.index("answerCallbackQuery") < methods.index("sendMessage")
    [answered] = api.calls("answerCallbackQuery")
    assert answered.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    [sent] = api.calls("sendMessage")
    assert sent.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Yes, cancel it", "callback_data": "/affirm"},
                {"text": "No, keep it", "callback_data": "/deny"},
            ]
        ]
    }


async def test_replies_wait_out_429_and_keep_their_order(
    api: TelegramApi, environment: Path
) -> None:
    channel = make_channel(api)
    await channel.start()
    output = channel.get_output_channel()
    api.fail_next(1, retry_after=1, method="sendMessage")
    started = time.monotonic()
    # Three replies in flight at once, the way a bot reply and agents' replies can be.
    await asyncio.gather(
        output.send_text_message("telegram:1111111", "one"),
        output.send_text_message("telegram:1111111", "two"),
        output.send_text_message("telegram:1111111", "three"),
    )
    elapsed = time.monotonic() - started
    await channel.stop()
    attempts = api.calls("sendMessage")
    assert [(call.params["text"], call.status) for call in attempts] == [
        ("one", 429),
        ("one", 200),
        ("two", 200),
        ("three", 200),
    ]
    assert api.sent_texts(1111111) == ["one", "two", "three"]
    assert elapsed >= 1.0
    assert attempts[1].at - attempts[0].at >= 1.0


async def test_other_chats_do_not_wait_for_a_rate_limited_one(
    api: TelegramApi, environment: Path
) -> None:
    channel = make_channel(api)
    await channel.start()
    output = channel.get_output_channel()
    api.fail_next(1, retry_after=2, method="sendMessage")
    slow = asyncio.create_task(output.send_text_message("telegram:1111111", "rate-limited"))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await output.send_text_message("telegram:2222222", "other chat")
    assert time.monotonic() - started < 1.0
    await slow
    await channel.stop()
    assert api.sent_texts() == ["other chat", "rate-limited"]


async def test_429_retries_are_bounded(api: TelegramApi, environment: Path) -> None:
    channel = TelegramInput(
        bot_token=TOKEN,
        secret_token=SECRET,
        api_base_url=api.base_url,
        intake=sqlite_intake(environment / "connectors.db", "telegram"),
        max_attempts=2,
    )
    await channel.start()
    output = channel.get_output_channel()
    api.fail_next(5, retry_after=1, method="sendMessage")
    with pytest.raises(TelegramSendError, match="rate-limited after 2 attempts"):
        await output.deliver("telegram:1111111", "never delivered")
    # Rasa's interface logs instead of raising, so the turn is still recorded.
    await output.send_text_message("telegram:1111111", "also not delivered")
    await channel.stop()
    assert len(api.calls("sendMessage")) == 4
    assert api.sent_texts() == []


async def test_start_up_fetches_the_bot_once_and_registers_the_webhook(
    api: TelegramApi, environment: Path
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa, webhook_url=WEBHOOK_URL) as (channel, client, url):
        for update_id in range(20000, 20005):
            update = fixture("message_text") | {"update_id": update_id}
            assert (await post(client, url, update)).status_code == 200
        await channel.background.wait()
    assert len(rasa.messages) == 5
    assert [call.method for call in api.calls()][:2] == ["getMe", "setWebhook"]
    assert len(api.calls("getMe")) == 1
    [registered] = api.calls("setWebhook")
    assert registered.params["url"] == WEBHOOK_URL
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == ["message", "callback_query"]


async def test_without_a_webhook_url_nothing_is_registered(
    api: TelegramApi, environment: Path
) -> None:
    async with webhook(api) as (_, client, url):
        assert (await client.get(url.rsplit("/", 1)[0] + "/")).json() == {"status": "ok"}
    assert [call.method for call in api.calls()] == ["getMe"]


async def test_a_token_telegram_rejects_refuses_to_start(
    api: TelegramApi, environment: Path
) -> None:
    channel = TelegramInput(
        bot_token="987654321:AAWrongTokenWrongTokenWrongToken00",
        secret_token=SECRET,
        api_base_url=api.base_url,
        intake=sqlite_intake(environment / "connectors.db", "telegram"),
    )
    with pytest.raises(TelegramConfigError, match="rejected"):
        await channel.start()


# --- the durable intake -----------------------------------------------------------


async def test_an_update_the_database_cannot_store_is_refused_503_for_telegram_to_retry(
    api: TelegramApi, environment: Path
) -> None:
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, client, url):
        with channel.intake.store._engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE connector_inbound")
        answer = await post(client, url, fixture("message_text"))
        await channel.background.wait()
    assert answer.status_code == 503
    assert rasa.messages == []


async def test_updates_stored_by_a_process_that_died_are_answered_after_the_start(
    api: TelegramApi, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows a killed process left pending are taken up once its lease ran out, in order."""
    monkeypatch.setenv("INTAKE_REPLAY_EVERY_S", "0.1")
    dead = make_channel(api)
    for update_id in (30002, 30001):
        update = fixture("message_text") | {"update_id": update_id}
        update["message"] = update["message"] | {"text": f"update {update_id}"}
        inbound = parse_update(update, None)
        assert inbound is not None
        dead.intake.store.add(
            Received(
                f"telegram:{api.bot_id}:update:{update_id}",
                "telegram",
                inbound.conversation_id,
                position(update_id),
                {**dataclasses.asdict(inbound), "kind": inbound.kind.value},
            ),
            owner="a process that died",
            lease_s=0.2,
        )
    rasa = RecordingRasa()
    async with webhook(api, rasa) as (channel, _client, _url):
        for _ in range(100):
            if channel.intake.store.counts()["done"] == 2:
                break
            await asyncio.sleep(0.05)
        await channel.background.wait()
    assert [message.text for message in rasa.messages] == ["update 30001", "update 30002"]
    assert [message.message_id for message in rasa.messages] == [
        f"telegram:{api.bot_id}:update:30001",
        f"telegram:{api.bot_id}:update:30002",
    ]
    assert api.sent_texts(1111111) == ["echo: update 30001", "echo: update 30002"]
