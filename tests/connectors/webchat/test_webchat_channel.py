"""The web chat channel over real socket.io connections.

The channel's blueprint is served by a real Sanic server; clients are
python-socketio's ``AsyncClient``, speaking the protocol our page and Rasa's
web-chat widgets speak. ``on_new_message`` records what would reach Rasa and
answers through the channel's output, as Rasa does; the end-to-end test with
the real Rasa server is the last test of this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from redis import asyncio as redis_asyncio
from sanic import Sanic

from bot.common.languages import EN
from bot.common.text_only import BILINGUAL_REPLY, text_only_reply
from bot.runtime.serve import enabled_credentials
from connectors.intake.output import CountedOutput
from connectors.webchat.channel import WebChatInput
from connectors.webchat.config import WebChatConfigError
from connectors.webchat.output import REDIS_CHANNEL, WebChatOutput, redis_output
from connectors.webchat.parse import MAX_TEXT_CHARS
from tests.support.intake_stores import sqlite_intake
from tests.support.sanic_server import serve_sanic

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BUTTONS = [{"title": "确认取消", "payload": "/affirm"}, {"title": "先不取消", "payload": "/deny"}]
WAIT_S = 10


@dataclass
class Served:
    """A Sanic server with the channel's blueprint; what reached "Rasa"."""

    url: str
    channel: WebChatInput
    received: list[UserMessage] = field(default_factory=list)


async def _echo(message: UserMessage) -> None:
    # Answers like Rasa does: through the message's output channel, to its sender.
    await message.output_channel.send_text_with_buttons(
        message.sender_id, f"收到：{message.text}", BUTTONS
    )


@contextlib.asynccontextmanager
async def serve(
    channel: WebChatInput,
    *,
    answer: Callable[[UserMessage], Awaitable[None]] | None = _echo,
    agent: Agent | None = None,
) -> AsyncIterator[Served]:
    """Serves the channel's blueprint as Rasa mounts it (``/webhooks/webchat``)."""
    served = Served(url="", channel=channel)

    async def on_new_message(message: UserMessage) -> None:
        served.received.append(message)
        if answer is not None:
            await answer(message)

    app = Sanic(f"webchat_test_{uuid.uuid4().hex[:10]}")
    app.ctx.agent = agent
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
    async with serve_sanic(app, listeners=False) as url:
        served.url = url
        try:
            yield served
        finally:
            await channel.background.wait()
            listener = getattr(channel.sio.manager, "thread", None) if channel.sio else None
            if listener is not None:
                listener.cancel()


class Client:
    """A socket.io client that queues what the server emits, per event."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue[Any]] = {
            "session_confirm": asyncio.Queue(),
            "bot_uttered": asyncio.Queue(),
        }
        for event, queue in self.queues.items():
            self.sio.on(event, queue.put_nowait)

    async def connect(self, url: str, *, path: str = "/socket.io") -> Client:
        await self.sio.connect(url, socketio_path=path, transports=["websocket"])
        return self

    async def session(self, session_id: object = None) -> str:
        """``session_request`` as the page sends it; returns the confirmed id."""
        await self.sio.emit("session_request", {"session_id": session_id})
        return str(await self.next("session_confirm"))

    async def say(self, data: dict[str, Any]) -> Any:
        """``user_uttered``, returning the server's acknowledgement."""
        return await self.sio.call("user_uttered", data, timeout=WAIT_S)

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.queues[event].get(), WAIT_S)

    async def nothing_more(self, event: str = "bot_uttered", wait_s: float = 0.5) -> None:
        await asyncio.sleep(wait_s)
        assert self.queues[event].empty(), self.queues[event].get_nowait()

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sanic rewrites its request handling on the first start in a process;
    # test mode lets a process start several apps.
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def channel(tmp_path: Path) -> WebChatInput:
    return WebChatInput(intake=sqlite_intake(tmp_path / "seen.db", "webchat"))


@contextlib.asynccontextmanager
async def clients(url: str, count: int = 1) -> AsyncIterator[list[Client]]:
    connected = [await Client().connect(url) for _ in range(count)]
    try:
        yield connected
    finally:
        for client in connected:
            await client.close()


# --- the page and its files -------------------------------------------------------


async def test_the_page_is_served_with_its_paths_and_a_strict_policy(
    channel: WebChatInput,
) -> None:
    async with serve(channel) as served, httpx.AsyncClient(base_url=served.url) as http:
        page = await http.get("/webhooks/webchat/")
        without_slash = await http.get("/webhooks/webchat")
        health = await http.get("/webhooks/webchat/health")

    assert page.status_code == 200
    assert without_slash.text == page.text
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-base-path="/webhooks/webchat/"' in page.text
    assert 'data-socketio-path="/socket.io"' in page.text
    assert '<script src="/webhooks/webchat/static/socket.io.min.js"></script>' in page.text
    assert '<script src="/webhooks/webchat/static/webchat.js"></script>' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert health.json() == {"status": "ok"}


async def test_only_the_pages_own_files_are_served(channel: WebChatInput) -> None:
    async with serve(channel) as served, httpx.AsyncClient(base_url=served.url) as http:
        client_js = await http.get("/webhooks/webchat/static/socket.io.min.js")
        script = await http.get("/webhooks/webchat/static/webchat.js")
        style = await http.get("/webhooks/webchat/static/webchat.css")
        others = [
            await http.get(f"/webhooks/webchat/static/{name}")
            for name in ("index.html", "..%2Fchannel.py", "..%2F..%2Fcredentials.yml", "nope.js")
        ]

    assert client_js.status_code == 200
    # The vendored socket.io client keeps its licence header.
    assert client_js.text.startswith("/*!\n * Socket.IO v4.")
    assert "Released under the MIT License." in client_js.text[:200]
    assert script.headers["content-type"].startswith("text/javascript")
    assert "textContent" in script.text
    for markup_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert markup_sink not in script.text
    assert style.headers["content-type"].startswith("text/css")
    assert [response.status_code for response in others] == [404, 404, 404, 404]


# --- sessions ----------------------------------------------------------------------


async def test_a_session_is_created_kept_or_replaced_when_invalid(channel: WebChatInput) -> None:
    async with serve(channel) as served, clients(served.url) as (client,):
        created = await client.session(None)
        kept = await client.session(created)
        from_rasa_webchat = await client.session("0f3c1b6c2f6a4e1e9a51d7c3a0b2e4f5")
        replaced = [
            await client.session(bad)
            for bad in ("../../etc", "<script>", "x" * 65, "short", 42, {"a": 1})
        ]

    assert re.fullmatch(r"[0-9a-f]{32}", created)
    assert kept == created
    assert from_rasa_webchat == "0f3c1b6c2f6a4e1e9a51d7c3a0b2e4f5"
    assert all(re.fullmatch(r"[0-9a-f]{32}", new) for new in replaced)
    assert len({created, *replaced}) == 1 + len(replaced)


# --- messages ----------------------------------------------------------------------


async def test_a_message_reaches_rasa_as_the_webchat_conversation(channel: WebChatInput) -> None:
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        ack = await client.say(
            {
                "message": "订单20241105001到哪了",
                "session_id": session_id,
                "message_id": "7d0d5e8a1f2b4c3d9e8f7a6b5c4d3e2f",
                "metadata": {"language_code": "zh-CN", "secret": "not stored"},
            }
        )
        reply = await client.next("bot_uttered")

    assert ack == "accepted"
    (message,) = served.received
    assert message.sender_id == f"webchat:{session_id}"
    assert message.text == "订单20241105001到哪了"
    assert message.input_channel == "webchat"
    assert message.metadata == {"language_code": "zh-CN"}
    # Rasa's replies leave through the web chat output, counted by the intake.
    assert isinstance(message.output_channel, CountedOutput)
    assert isinstance(message.output_channel._output, WebChatOutput)
    # Rasa's socketio message shape, which existing widgets render.
    assert reply == {
        "text": "收到：订单20241105001到哪了",
        "quick_replies": [{"content_type": "text", **button} for button in BUTTONS],
    }


async def test_customer_text_is_passed_as_it_was_typed(channel: WebChatInput) -> None:
    markup = "<img src=x onerror=alert(1)>"
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        await client.say({"message": markup, "session_id": session_id})
        reply = await client.next("bot_uttered")

    assert served.received[0].text == markup
    assert reply["text"] == f"收到：{markup}"


async def test_every_tab_of_a_session_gets_the_replies_and_nobody_else(
    channel: WebChatInput,
) -> None:
    async with serve(channel) as served, clients(served.url, 3) as (tab1, tab2, stranger):
        session_id = await tab1.session()
        await tab2.session(session_id)
        await stranger.session()
        await tab1.say({"message": "hello", "session_id": session_id})
        first, second = await tab1.next("bot_uttered"), await tab2.next("bot_uttered")
        # Rasa's HTTP API (output_channel=webchat) reaches the same room.
        output = served.channel.get_output_channel()
        assert output is not None
        await output.send_text_message(f"webchat:{session_id}", "an agent is here")
        pushed = await tab2.next("bot_uttered")
        await stranger.nothing_more()

    assert first == second
    assert pushed == {"text": "an agent is here"}


async def test_a_retried_message_is_answered_once(channel: WebChatInput) -> None:
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        data = {"message": "取消订单", "session_id": session_id, "message_id": "m-1"}
        acks = [await client.say(data), await client.say(data)]
        await client.next("bot_uttered")
        await client.nothing_more()

    assert acks == ["accepted", "duplicate"]
    assert len(served.received) == 1


async def test_a_rasa_widget_without_session_request_keeps_its_session(
    channel: WebChatInput,
) -> None:
    # After a server restart rasa-webchat may send before its session_request.
    session_id = "3a1f0c9e8d7b6a5f4e3d2c1b0a998877"
    async with serve(channel) as served, clients(served.url, 2) as (widget, other_tab):
        await widget.say(
            {"message": "hi", "customData": {"language": "en"}, "session_id": session_id}
        )
        reply = await widget.next("bot_uttered")
        await other_tab.session(session_id)
        await widget.say({"message": "again"})
        await other_tab.next("bot_uttered")

    assert reply["text"] == "收到：hi"
    assert [m.sender_id for m in served.received] == [f"webchat:{session_id}"] * 2
    assert served.received[0].metadata == {"language_code": "en"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"attachment": {"type": "image", "payload": {"src": "x.png"}}},
            BILINGUAL_REPLY,
        ),
        (
            {"message": {"type": "image"}, "metadata": {"language_code": "en-GB"}},
            text_only_reply(EN),
        ),
        (
            {"message": "长" * (MAX_TEXT_CHARS + 1), "metadata": {"language_code": "zh-CN"}},
            f"抱歉，消息太长了，请分成几条发送（每条最多 {MAX_TEXT_CHARS} 字）。",
        ),
    ],
)
async def test_what_is_not_text_gets_a_polite_reply_and_never_reaches_rasa(
    channel: WebChatInput, data: dict[str, Any], expected: str
) -> None:
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        ack = await client.say({**data, "session_id": session_id})
        reply = await client.next("bot_uttered")
        for nothing in ({"message": "   "}, {"session_id": session_id}):
            assert await client.say(nothing) == "ignored"
        await client.sio.emit("user_uttered", "just a string")
        await client.nothing_more()

    assert ack in ("unsupported", "too_long")
    assert reply == {"text": expected}
    assert served.received == []


# --- history -----------------------------------------------------------------------


async def test_the_history_returns_the_conversations_text_turns(channel: WebChatInput) -> None:
    store = InMemoryTrackerStore(Domain.empty())
    session_id = "5b0e7c9d1a2f4e6b8c0d2e4f6a8b0c1d"
    tracker = DialogueStateTracker(f"webchat:{session_id}", [])
    for event in (
        UserUttered("cancel order 20241113018"),
        BotUttered("Cancel order 20241113018 (Picture books × 1)?", data={"buttons": BUTTONS}),
        UserUttered("/deny"),
        BotUttered("OK, the order stays.\n\nAnything else?"),
        UserUttered("<img src=x onerror=alert(1)>"),
    ):
        tracker.update(event)
    await store.save(tracker)

    async with serve(channel, agent=Agent(tracker_store=store)) as served:
        async with httpx.AsyncClient(base_url=f"{served.url}/webhooks/webchat") as http:
            known = await http.get("/history", params={"session_id": session_id})
            unknown = await http.get("/history", params={"session_id": "f" * 32})
            invalid = [
                await http.get("/history", params=params)
                for params in ({}, {"session_id": "../x"}, {"session_id": "short"})
            ]

    assert known.status_code == 200
    assert known.headers["cache-control"] == "no-store"
    assert known.json() == {
        "session_id": session_id,
        "turns": [
            {"role": "user", "text": "cancel order 20241113018"},
            {
                "role": "bot",
                "text": "Cancel order 20241113018 (Picture books × 1)?",
                "buttons": BUTTONS,
            },
            {"role": "user", "text": "先不取消"},
            {"role": "bot", "text": "OK, the order stays."},
            {"role": "bot", "text": "Anything else?"},
            {"role": "user", "text": "<img src=x onerror=alert(1)>"},
        ],
    }
    assert unknown.json() == {"session_id": "f" * 32, "turns": []}
    assert [response.status_code for response in invalid] == [400, 400, 400]


async def test_the_history_says_when_the_assistant_is_not_ready(channel: WebChatInput) -> None:
    async with serve(channel, agent=None) as served, httpx.AsyncClient() as http:
        response = await http.get(
            f"{served.url}/webhooks/webchat/history", params={"session_id": "a" * 32}
        )

    assert response.status_code == 503


# --- Redis -------------------------------------------------------------------------


async def _subscribed(redis: Any, wanted: int) -> None:
    for _ in range(100):
        subscribers = dict(await redis.pubsub_numsub(REDIS_CHANNEL))
        if subscribers.get(REDIS_CHANNEL.encode(), 0) >= wanted:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the socket.io server never subscribed to Redis")


async def test_with_redis_any_process_reaches_the_customers_room(tmp_path: Path) -> None:
    redis = redis_asyncio.Redis.from_url(REDIS_URL)
    before = dict(await redis.pubsub_numsub(REDIS_CHANNEL)).get(REDIS_CHANNEL.encode(), 0)
    replica1 = WebChatInput(
        redis_url=REDIS_URL, intake=sqlite_intake(tmp_path / "seen.db", "webchat")
    )
    replica2 = WebChatInput(
        redis_url=REDIS_URL, intake=sqlite_intake(tmp_path / "seen.db", "webchat")
    )
    handoff = redis_output(REDIS_URL)
    async with (
        serve(replica1) as served1,
        serve(replica2) as served2,
        clients(served1.url) as (on_replica1,),
        clients(served2.url) as (on_replica2,),
    ):
        assert replica1.sio is not None
        assert isinstance(replica1.sio.manager, socketio.AsyncRedisManager)
        session_id = await on_replica1.session()
        await on_replica2.session(session_id)
        await _subscribed(redis, before + 2)

        # An agent's reply from a process that serves no web chat.
        await handoff.send_text_with_buttons(f"webchat:{session_id}", "我是客服小王", BUTTONS[:1])
        from_handoff = [
            await on_replica1.next("bot_uttered"),
            await on_replica2.next("bot_uttered"),
        ]
        # The bot's reply on replica 1 reaches the tab connected to replica 2.
        await on_replica1.say({"message": "你好", "session_id": session_id})
        from_bot = await on_replica2.next("bot_uttered")
    await redis.close()

    expected = {
        "text": "我是客服小王",
        "quick_replies": [{"content_type": "text", **BUTTONS[0]}],
    }
    assert from_handoff == [expected, expected]
    assert from_bot["text"] == "收到：你好"


# --- settings ----------------------------------------------------------------------


def test_the_channel_is_on_with_nothing_set_and_reads_its_section() -> None:
    sections = enabled_credentials(ROOT / "credentials.yml", {})
    section = sections["connectors.webchat.channel.WebChatInput"]
    channel = WebChatInput.from_credentials(section)  # type: ignore[arg-type]

    assert channel.socketio_path == "/socket.io"
    assert channel.redis_url is None
    assert channel.session_persistence is True

    with_redis = enabled_credentials(
        ROOT / "credentials.yml",
        {"REDIS_URL": "redis://10.0.0.6:6379/0", "WEBCHAT_SOCKETIO_PATH": "/chat/socket.io/"},
    )["connectors.webchat.channel.WebChatInput"]
    configured = WebChatInput.from_credentials(with_redis)  # type: ignore[arg-type]
    assert configured.redis_url == "redis://10.0.0.6:6379/0"
    assert configured.socketio_path == "/chat/socket.io"


@pytest.mark.parametrize(
    "credentials",
    [
        {"socketio_path": "socket.io"},
        {"socketio_path": "/socket.io?x=1"},
        {"socketio_path": '/"><script>'},
        {"redis_url": "http://10.0.0.6:6379"},
        {"redis_url": 6379},
    ],
)
def test_unusable_settings_refuse_to_start(credentials: dict[str, Any]) -> None:
    with pytest.raises(WebChatConfigError):
        WebChatInput.from_credentials(credentials)


async def test_a_custom_socketio_path_is_served_and_named_in_the_page(tmp_path: Path) -> None:
    channel = WebChatInput(
        socketio_path="/chat/socket.io",
        intake=sqlite_intake(tmp_path / "seen.db", "webchat"),
    )
    async with serve(channel) as served:
        async with httpx.AsyncClient() as http:
            page = await http.get(f"{served.url}/webhooks/webchat/")
        client = await Client().connect(served.url, path="/chat/socket.io")
        session_id = await client.session()
        await client.close()

    assert 'data-socketio-path="/chat/socket.io"' in page.text
    assert re.fullmatch(r"[0-9a-f]{32}", session_id)


# --- end to end --------------------------------------------------------------------


@pytest.mark.stack
async def test_a_real_bot_answers_over_the_web_chat_and_remembers(stack: Any) -> None:
    """The real Rasa server, action server and demo shop, with the channel as configured."""
    client = await Client().connect(stack.rasa_url)
    try:
        session_id = await client.session()
        ack = await client.say(
            {
                "message": "订单20241105001到哪了",
                "session_id": session_id,
                "message_id": uuid.uuid4().hex,
                "metadata": {"language_code": "zh-CN"},
            }
        )
        replies = [await asyncio.wait_for(client.queues["bot_uttered"].get(), 60)]
        while not any("SF1234567890" in reply.get("text", "") for reply in replies):
            replies.append(await asyncio.wait_for(client.queues["bot_uttered"].get(), 30))
    finally:
        await client.close()

    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=10) as http:
        page = await http.get("/webhooks/webchat/")
        history = (await http.get("/webhooks/webchat/history?session_id=" + session_id)).json()
        tracker = (await http.get(f"/conversations/webchat:{session_id}/tracker")).json()

    assert ack == "accepted"
    assert page.status_code == 200
    assert history["turns"][0] == {"role": "user", "text": "订单20241105001到哪了"}
    assert any("SF1234567890" in turn["text"] for turn in history["turns"][1:])
    assert [turn["role"] for turn in history["turns"]][1:] == ["bot"] * (len(history["turns"]) - 1)
    (user_event,) = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_event["input_channel"] == "webchat"
    assert user_event["metadata"]["language_code"] == "zh-CN"


# --- the durable intake -----------------------------------------------------------


async def test_a_message_is_acknowledged_once_stored_and_handled_in_the_pages_order(
    channel: WebChatInput,
) -> None:
    """While the first message is being answered, seq 3 arrives before seq 2: 2 goes first."""
    release = asyncio.Event()

    async def slow_first(message: UserMessage) -> None:
        if message.text == "one":
            await release.wait()

    async with (
        serve(channel, answer=slow_first) as served,
        clients(served.url) as (client,),
    ):
        session_id = await client.session()
        acks = []
        for seq, text in ((1, "one"), (3, "three"), (2, "two")):
            data = {"message": text, "session_id": session_id, "message_id": f"m-{seq}"}
            acks.append(await client.say(data | {"seq": seq}))
            # Acknowledged means stored: the row is there, whatever happens next.
            assert _counts(channel)["pending"] >= 1
        release.set()
        await channel.background.wait()

    assert acks == ["accepted"] * 3
    assert [message.text for message in served.received] == ["one", "two", "three"]
    assert [message.message_id for message in served.received] == [
        f"webchat:{session_id}:m-{seq}" for seq in (1, 2, 3)
    ]
    assert _counts(channel) == {"pending": 0, "done": 3}


async def test_a_message_the_database_cannot_store_is_not_acknowledged(
    channel: WebChatInput,
) -> None:
    async with serve(channel) as served, clients(served.url) as (client,):
        session_id = await client.session()
        assert channel.intake is not None
        with channel.intake.store._engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE connector_inbound")
        with pytest.raises(socketio.exceptions.TimeoutError):
            await client.sio.call(
                "user_uttered", {"message": "hi", "session_id": session_id}, timeout=1
            )
    # No acknowledgement, so the page sends it again; nothing reached Rasa.
    assert served.received == []


def _counts(channel: WebChatInput) -> dict[str, int]:
    assert channel.intake is not None
    return channel.intake.store.counts()
