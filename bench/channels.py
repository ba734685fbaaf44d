"""Talking to a running stack the way each platform does, timing every turn.

One driver per channel, all with the same shape: :meth:`open` starts a
conversation under a fresh id, :meth:`Conversation.say` sends one customer
message and returns how long the bot took to answer it completely.

- REST: the time from the POST to its HTTP response (Rasa collects the
  replies and returns them in the response).
- Telegram and WeChat: the webhook only acknowledges; the replies reach the
  platform's API later. The stand-in API servers timestamp each send as it
  arrives, and a turn ends with the arrival of its last reply.
- Web chat: a socket.io client emits ``user_uttered``; the turn ends when the
  last ``bot_uttered`` arrives.

How many replies a turn has is learned from the REST channel on the same
script (:func:`replies_per_turn`), so "the last reply" is known in advance.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import secrets
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Protocol

import httpx
import socketio

from connectors.telegram import parse as telegram_parse
from connectors.telegram.channel import SECRET_HEADER
from connectors.webchat import parse as webchat_parse
from connectors.wechat import parse as wechat_parse
from tests.support.telegram_api import ApiCall, TelegramApi
from tests.support.wechat_api import SendAttempt, WeChatApi, push, signed_query

# Longest wait for a turn's replies; the stack is slow under load, not this slow.
REPLY_TIMEOUT_S = 60.0
_TELEGRAM_UPDATE = Path(__file__).resolve().parents[1] / "tests/fixtures/telegram/message_text.json"


class Arrivals:
    """When each bot message reached the customer's side, per recipient.

    Built inside the driver's event loop; the stand-in servers report from
    their own threads through :meth:`add_threadsafe`.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._times: dict[str, list[float]] = defaultdict(list)
        self._changed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def add(self, recipient: str, at: float) -> None:
        """Records a message to ``recipient`` that arrived at ``at`` (``time.monotonic()``)."""
        self._times[recipient].append(at)
        self._changed[recipient].set()

    def add_threadsafe(self, recipient: str, at: float) -> None:
        """:meth:`add`, from another thread."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.add, recipient, at)

    def count(self, recipient: str) -> int:
        """How many messages ``recipient`` received so far."""
        return len(self._times.get(recipient, ()))

    async def nth(self, recipient: str, n: int) -> float:
        """When the ``n``-th message to ``recipient`` arrived (waiting for it)."""

        async def arrived() -> float:
            while len(self._times[recipient]) < n:
                changed = self._changed[recipient]
                changed.clear()
                await changed.wait()
            return self._times[recipient][n - 1]

        try:
            return await asyncio.wait_for(arrived(), REPLY_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"{recipient}: {self.count(recipient)} of {n} replies after {REPLY_TIMEOUT_S} s"
            ) from None


class Conversation(Protocol):
    """One customer's conversation through one channel."""

    recipient: str
    conversation_id: str
    replies: int

    async def say(self, text: str, replies: int) -> float:
        """Sends ``text``; returns the seconds until its ``replies`` replies all arrived."""
        ...

    def received(self) -> int:
        """How many replies arrived in this conversation so far."""
        ...

    async def close(self) -> None:
        """Ends the conversation (closes its connection, if it has one)."""
        ...


class Channel(Protocol):
    """Starts conversations through one channel."""

    name: str

    async def open(self) -> Conversation:
        """A new conversation under a fresh id."""
        ...


async def replies_per_turn(
    http: httpx.AsyncClient, rasa_url: str, script: tuple[str, ...]
) -> list[int]:
    """How many messages the bot sends for each turn of ``script``, by REST."""
    sender = f"bench-calibrate-{uuid.uuid4().hex[:12]}"
    counts = []
    for text in script:
        response = await http.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        response.raise_for_status()
        counts.append(len(response.json()))
    return counts


class _Counted:
    """Counts the replies a conversation should have received so far."""

    recipient = ""
    conversation_id = ""
    replies = 0
    arrivals: Arrivals | None = None

    def received(self) -> int:
        """What arrived at the customer's side; for REST, what the responses held."""
        return self.arrivals.count(self.recipient) if self.arrivals else self.replies

    async def close(self) -> None:
        """Nothing to close."""


class RestConversation(_Counted):
    """A conversation through Rasa's REST channel."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self._url = url
        self.recipient = self.conversation_id = f"bench-{uuid.uuid4().hex[:16]}"

    async def say(self, text: str, replies: int) -> float:
        """POSTs the message; the turn ends with the HTTP response."""
        started = time.monotonic()
        response = await self._http.post(
            self._url, json={"sender": self.recipient, "message": text}
        )
        elapsed = time.monotonic() - started
        response.raise_for_status()
        messages = response.json()
        if len(messages) != replies:
            print(f"REST {self.recipient} {text!r}: {messages}", file=sys.stderr, flush=True)
        self.replies += len(messages)
        return elapsed


class RestChannel:
    """Rasa's plain REST channel, the baseline."""

    name = "REST"

    def __init__(self, http: httpx.AsyncClient, rasa_url: str) -> None:
        self._http = http
        self._url = f"{rasa_url}/webhooks/rest/webhook"

    async def open(self) -> Conversation:
        """A conversation under a fresh sender id."""
        return RestConversation(self._http, self._url)


class TelegramChannel:
    """Updates POSTed to the Telegram webhook; replies timed at the stand-in Bot API."""

    name = "Telegram"

    def __init__(
        self, http: httpx.AsyncClient, rasa_url: str, *, secret: str, api: TelegramApi
    ) -> None:
        self._http = http
        self._url = f"{rasa_url}/webhooks/telegram/webhook"
        self._secret = secret
        self.arrivals = Arrivals()
        self._template: dict[str, Any] = json.loads(_TELEGRAM_UPDATE.read_text())
        start = 10**8 + secrets.randbelow(10**8)
        self._chat_ids = itertools.count(start)
        self._update_ids = itertools.count(start)
        api.listen(self._heard)

    def _heard(self, call: ApiCall) -> None:
        if call.method == "sendMessage" and call.ok:
            self.arrivals.add_threadsafe(str(call.params["chat_id"]), call.at)

    def update(self, chat_id: int, text: str) -> dict[str, Any]:
        """A private-chat text update, as Telegram sends it, with fresh ids."""
        update = copy.deepcopy(self._template)
        update_id = next(self._update_ids)
        message = update["message"]
        update["update_id"] = update_id
        message |= {"message_id": update_id, "date": int(time.time()), "text": text}
        message["from"] |= {"id": chat_id, "language_code": "zh-CN"}
        message["chat"]["id"] = chat_id
        return update

    async def open(self) -> Conversation:
        """A conversation in a new private chat."""
        return _TelegramConversation(self, next(self._chat_ids))

    async def post(self, update: dict[str, Any]) -> None:
        """POSTs one update with the secret header; Telegram wants a 200."""
        response = await self._http.post(
            self._url, json=update, headers={SECRET_HEADER: self._secret}
        )
        response.raise_for_status()


class _TelegramConversation(_Counted):
    def __init__(self, channel: TelegramChannel, chat_id: int) -> None:
        self._channel = channel
        self._chat_id = chat_id
        self.recipient = str(chat_id)
        self.conversation_id = telegram_parse.conversation_id(chat_id)
        self.arrivals = channel.arrivals

    async def say(self, text: str, replies: int) -> float:
        started = time.monotonic()
        await self._channel.post(self._channel.update(self._chat_id, text))
        self.replies += replies
        return await self._channel.arrivals.nth(self.recipient, self.replies) - started


class WeChatChannel:
    """Signed XML pushes to the WeChat webhook; replies timed at the stand-in API."""

    name = "WeChat"

    def __init__(
        self, http: httpx.AsyncClient, rasa_url: str, *, token: str, api: WeChatApi
    ) -> None:
        self._http = http
        self._url = f"{rasa_url}/webhooks/wechat/webhook"
        self._token = token
        self.arrivals = Arrivals()
        self._msg_ids = itertools.count(int(time.time() * 1000) * 1000)
        api.listen(self._heard)

    def _heard(self, attempt: SendAttempt) -> None:
        if attempt.errcode == 0:
            self.arrivals.add_threadsafe(str(attempt.body["touser"]), attempt.at)

    async def open(self) -> Conversation:
        """A conversation with a new follower (openid)."""
        return _WeChatConversation(self, "o" + uuid.uuid4().hex[:27])

    async def push(self, openid: str, text: str) -> None:
        """POSTs a signed text message; WeChat wants ``success``."""
        xml = push(
            "text.xml",
            FromUserName=openid,
            Content=text,
            CreateTime=str(int(time.time())),
            MsgId=str(next(self._msg_ids)),
        )
        response = await self._http.post(
            self._url,
            params=signed_query(self._token),
            content=xml.encode(),
            headers={"Content-Type": "text/xml"},
        )
        response.raise_for_status()
        if response.text != "success":
            raise RuntimeError(f"WeChat webhook answered {response.text!r}")


class _WeChatConversation(_Counted):
    def __init__(self, channel: WeChatChannel, openid: str) -> None:
        self._channel = channel
        self.recipient = openid
        self.conversation_id = wechat_parse.conversation_id(openid)
        self.arrivals = channel.arrivals

    async def say(self, text: str, replies: int) -> float:
        started = time.monotonic()
        await self._channel.push(self.recipient, text)
        self.replies += replies
        return await self._channel.arrivals.nth(self.recipient, self.replies) - started


class WebChatChannel:
    """A socket.io client per conversation, as the web chat page (or rasa-webchat) is."""

    name = "web chat"

    def __init__(self, rasa_url: str) -> None:
        self._url = rasa_url
        self.arrivals = Arrivals()

    async def open(self) -> Conversation:
        """Connects a client and asks for a new session."""
        client = socketio.AsyncClient(reconnection=False)
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        recipient = ""

        def on_confirm(session_id: str) -> None:
            if not confirmed.done():
                confirmed.set_result(str(session_id))

        def on_bot_uttered(_message: Any) -> None:
            self.arrivals.add(recipient, time.monotonic())

        client.on("session_confirm", on_confirm)
        client.on("bot_uttered", on_bot_uttered)
        await client.connect(self._url, socketio_path="/socket.io", transports=["websocket"])
        await client.emit("session_request", {"session_id": None})
        recipient = await asyncio.wait_for(confirmed, REPLY_TIMEOUT_S)
        return _WebChatConversation(client, self.arrivals, recipient)


class _WebChatConversation(_Counted):
    def __init__(self, client: socketio.AsyncClient, arrivals: Arrivals, session_id: str) -> None:
        self._client = client
        self._arrivals = self.arrivals = arrivals
        self.recipient = session_id
        self.conversation_id = webchat_parse.conversation_id(session_id)

    async def say(self, text: str, replies: int) -> float:
        started = time.monotonic()
        await self._client.emit(
            "user_uttered",
            {
                "message": text,
                "session_id": self.recipient,
                "message_id": uuid.uuid4().hex,
                "metadata": {"language_code": "zh-CN"},
            },
        )
        self.replies += replies
        return await self._arrivals.nth(self.recipient, self.replies) - started

    async def close(self) -> None:
        await self._client.disconnect()
