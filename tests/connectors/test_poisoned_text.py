"""NUL and lone surrogates are cleaned where a message comes in: every connector and REST.

Each channel's real webhook (Telegram, web chat's socket.io, Rasa's REST
channel as ``credentials.yml`` names it) is served the way Rasa mounts it;
what reaches Rasa must be storable text. WeChat's XML cannot carry either
character (its parser refuses the body, 400), yet its channel cleans too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Sanic

from bot import settings
from bot.common.clean_text import REPLACEMENT
from connectors.rest import CleanRestInput
from connectors.webchat.channel import WebChatInput
from tests.connectors.telegram.test_telegram_channel import (
    TOKEN,
    RecordingRasa,
    fixture,
    post,
    webhook,
)
from tests.connectors.webchat.test_webchat_channel import clients, serve
from tests.support.intake_stores import sqlite_intake
from tests.support.sanic_server import serve_sanic
from tests.support.telegram_api import TelegramApi, running_telegram_api

POISONED = "where\x00 is \ud83d my order"
CLEANED = f"where is {REPLACEMENT} my order"


@pytest.fixture
def telegram() -> Iterator[TelegramApi]:
    with running_telegram_api(TOKEN) as api:
        yield api


async def test_telegram_cleans_the_text_before_rasa(
    telegram: TelegramApi, environment: Path
) -> None:
    api = telegram
    rasa = RecordingRasa()
    update = fixture("message_text")
    update["message"]["text"] = POISONED
    async with webhook(api, rasa) as (channel, client, url):
        # ensure_ascii: the surrogate travels as a JSON escape, as a platform would send it.
        answer = await post(client, url, json.dumps(update, ensure_ascii=True).encode())
        assert answer.status_code == 200
        await channel.background.wait()
    [message] = rasa.messages
    assert message.text == CLEANED
    message.text.encode("utf-8")


class Collecting:
    """Stands in for Rasa's agent behind the REST channel: records, answers once."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        assert isinstance(message.output_channel, CollectingOutputChannel)
        await message.output_channel.send_text_message(message.sender_id, "ok")


@asynccontextmanager
async def rest_webhook(rasa: Collecting) -> AsyncIterator[str]:
    app = Sanic(f"rest_test_{uuid.uuid4().hex}")
    channel = CleanRestInput()
    app.blueprint(channel.blueprint(rasa), url_prefix=f"/webhooks/{channel.name()}")
    async with serve_sanic(app) as url:
        yield f"{url}/webhooks/rest/webhook"


async def test_the_rest_channel_cleans_sender_text_and_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    rasa = Collecting()
    body: dict[str, Any] = {
        "sender": "webchat:\x00demo",
        "message": POISONED,
        "input_channel": "rest\ud800",
    }
    async with rest_webhook(rasa) as url, httpx.AsyncClient() as client:
        answer = await client.post(
            url,
            content=json.dumps(body, ensure_ascii=True).encode(),
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "webchat:demo", "text": "ok"}]
    [message] = rasa.messages
    assert (message.sender_id, message.text) == ("webchat:demo", CLEANED)
    assert message.input_channel == f"rest{REPLACEMENT}"


def test_credentials_yml_serves_rest_through_the_cleaning_channel() -> None:
    channels = yaml.safe_load((settings.PROJECT_ROOT / "credentials.yml").read_text())
    assert "rest" not in channels
    assert "connectors.rest.CleanRestInput" in channels
    assert CleanRestInput.name() == "rest"  # same URL: /webhooks/rest/webhook


async def test_web_chat_cleans_the_text_before_rasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    channel = WebChatInput(intake=sqlite_intake(tmp_path / "seen.db", "webchat"))
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        ack = await client.say(
            {
                "message": POISONED,
                "session_id": session_id,
                "metadata": {"language_code": "zh\x00-CN"},
            }
        )
        await client.next("bot_uttered")
    assert ack == "accepted"
    [message] = served.received
    assert message.text == CLEANED
    assert message.metadata == {}  # the parser keeps only a well-formed language code
