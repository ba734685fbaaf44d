"""Parsing recorded Telegram updates, and the connector's pure helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from connectors.telegram.channel import TelegramInput, unsupported_reply
from connectors.telegram.errors import MalformedUpdate, TelegramConfigError, UnknownRecipient
from connectors.telegram.parse import Inbound, InboundKind, parse_update
from connectors.telegram.send import chat_id_of, inline_keyboard, split_text
from tests.support.intake_stores import sqlite_intake

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret-token_for-telegram-tests"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bot() -> Bot:
    # Parsing never calls the API: the bot is only linked to the parsed objects.
    return Bot(TOKEN, base_url="http://127.0.0.1:9/bot")


def test_text_message_goes_to_rasa_as_typed(bot: Bot) -> None:
    inbound = parse_update(fixture("message_text"), bot)
    assert inbound == Inbound(
        update_id=10000,
        chat_id=1111111,
        kind=InboundKind.TEXT,
        text="Where is my order 20241105001?",
        language_code="en",
    )
    assert inbound.conversation_id == "telegram:1111111"
    assert inbound.metadata == {"language_code": "en"}


def test_start_becomes_the_welcome(bot: Bot) -> None:
    inbound = parse_update(fixture("message_start"), bot)
    assert inbound is not None
    assert (inbound.kind, inbound.text, inbound.chat_id) == (InboundKind.START, "/greet", 2222222)
    assert inbound.metadata == {"language_code": "zh-hans"}


@pytest.mark.parametrize("text", ["/start", "/start@shop_assistant_bot", "/start ref-42", "/START"])
def test_start_variants_and_the_documented_sample_without_entities(bot: Bot, text: str) -> None:
    payload = fixture("message_text")
    payload["message"]["text"] = text
    inbound = parse_update(payload, bot)
    assert inbound is not None and inbound.kind is InboundKind.START and inbound.text == "/greet"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ('/inform{"order_id":"20241105002"}', 'inform{"order_id":"20241105002"}'),
        ("/help", "help"),
        ("  //affirm", "affirm"),
        ("1/2 of my order is missing", "1/2 of my order is missing"),
        ("/startle me", "startle me"),
    ],
)
def test_typed_text_cannot_inject_intents(bot: Bot, typed: str, sent: str) -> None:
    payload = fixture("message_text")
    payload["message"]["text"] = typed
    inbound = parse_update(payload, bot)
    assert inbound is not None and inbound.kind is InboundKind.TEXT and inbound.text == sent


def test_button_press_sends_its_payload_and_is_to_be_answered(bot: Bot) -> None:
    inbound = parse_update(fixture("callback_query"), bot)
    assert inbound == Inbound(
        update_id=10002,
        chat_id=1111111,
        kind=InboundKind.BUTTON,
        text="/affirm",
        language_code="en",
        callback_query_id="4382bfdwdsb323b2d9",
    )


@pytest.mark.parametrize(
    ("name", "content", "language_code"),
    [("sticker", "sticker", "en"), ("photo", "photo", "zh-hant"), ("voice", "voice", None)],
)
def test_media_in_a_private_chat_is_unsupported(
    bot: Bot, name: str, content: str, language_code: str | None
) -> None:
    inbound = parse_update(fixture(name), bot)
    assert inbound is not None
    assert inbound.kind is InboundKind.UNSUPPORTED
    assert (inbound.text, inbound.content_type, inbound.language_code) == (
        None,
        content,
        language_code,
    )


@pytest.mark.parametrize(
    "name", ["edited_message", "channel_post", "group_message", "callback_query_inline"]
)
def test_updates_acknowledged_silently(bot: Bot, name: str) -> None:
    assert parse_update(fixture(name), bot) is None


def test_group_button_presses_and_unknown_update_types_are_silent(bot: Bot) -> None:
    payload = fixture("callback_query")
    payload["callback_query"]["message"]["chat"] = {
        "id": -4012345678,
        "type": "group",
        "title": "g",
    }
    assert parse_update(payload, bot) is None
    member_update = {
        "update_id": 10010,
        "my_chat_member": {
            "chat": {"id": 1111111, "type": "private", "first_name": "Test"},
            "from": {"id": 1111111, "is_bot": False, "first_name": "Test"},
            "date": 1441645700,
            "old_chat_member": {
                "user": {"id": 1, "is_bot": True, "first_name": "B"},
                "status": "member",
            },
            "new_chat_member": {
                "user": {"id": 1, "is_bot": True, "first_name": "B"},
                "status": "kicked",
                "until_date": 0,
            },
        },
    }
    assert parse_update(member_update, bot) is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "update",
        {"message": {"text": "no update id"}},
        {"update_id": "10000", "message": None},
        {"update_id": 1, "message": "not an object"},
        {"update_id": 1, "message": {"chat": {"id": 1, "type": "private"}}},
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": "x", "type": "private"},
                "text": "hi",
            },
        },
    ],
)
def test_malformed_updates_are_refused(bot: Bot, payload: Any) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(payload, bot)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "Sorry, I can only read text messages for now."),
        ("en-GB", "Sorry, I can only read text messages for now."),
        ("zh-hans", "抱歉，我目前只能看懂文字消息"),
        ("zh-TW", "抱歉，我目前只能看懂文字訊息"),
        (None, "抱歉，我目前只能看懂文字消息 / Sorry, I can only read text messages for now."),
        ("de", "抱歉，我目前只能看懂文字消息 / Sorry, I can only read text messages for now."),
    ],
)
def test_polite_reply_in_the_customers_language(code: str | None, expected: str) -> None:
    assert unsupported_reply(code).startswith(expected)


def test_conversation_ids_map_to_chats() -> None:
    assert chat_id_of("telegram:1111111") == 1111111
    assert chat_id_of("-4012345678") == -4012345678
    with pytest.raises(UnknownRecipient):
        chat_id_of("wechat:oABC")


def test_long_texts_are_split_within_telegrams_limit() -> None:
    assert split_text("short") == ["short"]
    text = ("line of text\n" * 400).strip()  # 5199 characters
    parts = split_text(text)
    assert len(parts) == 2 and all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == text
    emoji = "😀" * 3000  # two UTF-16 units each
    assert [len(part) for part in split_text(emoji)] == [2048, 952]


def test_buttons_become_an_inline_keyboard_of_payloads() -> None:
    short = inline_keyboard(
        [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    )
    assert [[b.callback_data for b in row] for row in short.inline_keyboard] == [
        ["/affirm", "/deny"]
    ]
    long = inline_keyboard(
        [
            {"title": "Where is my parcel?", "payload": "/track_shipment"},
            {"title": "I want a refund for my order", "payload": "/request_refund"},
            {"title": "Too long " * 10, "payload": "/inform" + "x" * 80},
        ]
    )
    assert [len(row) for row in long.inline_keyboard] == [1, 1, 1]
    # A payload over Telegram's 64 bytes cannot be a button: its title goes back instead.
    assert long.inline_keyboard[2][0].callback_data == ("Too long " * 10)[:64]


def _channel(tmp_path: Path, **overrides: Any) -> TelegramInput:
    options: dict[str, Any] = {"bot_token": TOKEN, "secret_token": SECRET}
    options |= overrides
    return TelegramInput(intake=sqlite_intake(tmp_path / "seen.db", "telegram"), **options)


@pytest.mark.parametrize(
    "overrides",
    [
        {"bot_token": ""},
        {"bot_token": "not-a-token"},
        {"secret_token": ""},
        {"secret_token": "short"},
        {"secret_token": "has spaces in the secret token"},
        {"webhook_url": "http://shop.example/webhooks/telegram/webhook"},
        {"api_base_url": "api.telegram.org"},
    ],
)
def test_unusable_settings_refuse_to_start(tmp_path: Path, overrides: dict[str, Any]) -> None:
    with pytest.raises(TelegramConfigError):
        _channel(tmp_path, **overrides)


def test_credentials_section_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(TelegramConfigError):
        TelegramInput.from_credentials(None)
    with pytest.raises(TelegramConfigError, match="unknown"):
        TelegramInput.from_credentials({"bot_token": TOKEN, "secret_token": SECRET, "verify": "x"})
    channel = TelegramInput.from_credentials(
        {"bot_token": TOKEN, "secret_token": SECRET, "webhook_url": "", "api_base_url": ""}
    )
    assert channel.name() == "telegram"
    assert channel.get_output_channel().name() == "telegram"
