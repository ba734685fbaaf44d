"""python-telegram-bot over aiohttp, against the stand-in Bot API and bare sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from connectors.telegram.http import AiohttpRequest
from tests.support.faulty import closed_port_url
from tests.support.telegram_api import TelegramApi, running_telegram_api

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def api() -> Iterator[TelegramApi]:
    with running_telegram_api(TOKEN) as api:
        yield api


def bot_on(base_url: str, request: AiohttpRequest) -> Bot:
    return Bot(TOKEN, base_url=f"{base_url}/bot", request=request)


async def test_calls_arrive_as_telegram_expects(api: TelegramApi) -> None:
    bot = bot_on(api.base_url, AiohttpRequest())
    async with bot:  # initialize (getMe) … shutdown
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("查物流", callback_data="/track")]])
        sent = await bot.send_message(chat_id=42, text="您好 <b>", reply_markup=keyboard)
    assert bot.username == api.bot_username
    assert sent.text == "您好 <b>" and sent.chat.id == 42
    [call] = api.calls("sendMessage")
    assert call.params["chat_id"] == "42" and call.params["text"] == "您好 <b>"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "查物流", "callback_data": "/track"}]]
    }


async def test_a_fresh_connection_is_reused_and_an_idle_one_is_not(api: TelegramApi) -> None:
    """Idle connections are dropped before a server would close them under a request."""
    bot = bot_on(api.base_url, AiohttpRequest(idle_connection_s=0.2))
    async with bot:
        await bot.send_message(chat_id=42, text="one")
        await bot.send_message(chat_id=42, text="two")
        await asyncio.sleep(0.6)
        await bot.send_message(chat_id=42, text="three")
    ports = [call.client_port for call in api.calls("sendMessage")]
    assert ports[0] is not None
    assert ports[0] == ports[1]
    assert ports[2] != ports[1]


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections, reads requests and never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1024):
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_no_answer_in_time_is_a_timeout(silent_server: str) -> None:
    request = AiohttpRequest(read_timeout_s=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{silent_server}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_no_server_is_a_network_error() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"{closed_port_url()}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not isinstance(raised.value, TimedOut)


async def test_a_request_before_initialize_is_refused(api: TelegramApi) -> None:
    # python-telegram-bot wraps what its HTTP client raises in a NetworkError.
    with pytest.raises(NetworkError, match="before initialize"):
        await AiohttpRequest().post(f"{api.base_url}/bot{TOKEN}/getMe")
    assert api.calls() == []
