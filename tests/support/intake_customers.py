"""Customers of the fault tests: Telegram, WeChat and web chat conversations against a stack.

Each conversation sends its messages one after the other, each as soon as
the platform stand-in got the acknowledgement of the previous one (as
Telegram and WeChat do; the web chat page waits for socket.io's
acknowledgement too), and remembers every message acknowledged under the
intake's key, which Rasa records as the user event's ``message_id``. The
checks read Rasa's trackers and the stand-ins' deliveries: every acknowledged
message handled exactly once, in the order sent, and answered.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

from connectors.intake.notice import NOTICES
from connectors.telegram.channel import SECRET_HEADER
from tests.support.telegram_api import TelegramApi
from tests.support.wechat_api import WeChatApi, push, signed_query

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = "intake-faults-secret-0123456789"
WECHAT_TOKEN = "intakefaults"
WECHAT_APP_ID = "wx00faults00000000"
WECHAT_APP_SECRET = "faults0faults0faults0faults00000"
# The account in tests/fixtures/wechat/text.xml.
WECHAT_ACCOUNT = "toUser"
# Texts that get one answer each without the action server: a greeting, an
# FAQ, an out-of-scope question.
TEXTS = ("你好", "一般几天发货", "明天天气怎么样")


def stack_settings(telegram: TelegramApi, wechat: WeChatApi) -> dict[str, str]:
    """The settings that switch Telegram and WeChat on against the stand-ins."""
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_APP_ID": WECHAT_APP_ID,
        "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
        "WECHAT_API_BASE_URL": wechat.url,
    }


@dataclass
class Conversation:
    """One customer: what they sent, and what was acknowledged (intake keys, in order)."""

    channel: str
    conversation_id: str
    recipient: str
    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


_ids = itertools.count(10**8 + secrets.randbelow(10**8))


class Customers:
    """Sends messages on the three platforms to the Rasa server at ``rasa_url``."""

    def __init__(self, rasa_url: str, *, telegram_bot_id: int) -> None:
        self.rasa_url = rasa_url
        self._bot_id = telegram_bot_id
        self._http = httpx.AsyncClient(timeout=20)
        self._sockets: dict[str, socketio.AsyncClient] = {}
        self.conversations: list[Conversation] = []

    async def close(self) -> None:
        await self._http.aclose()
        for client in self._sockets.values():
            await client.disconnect()

    def telegram(self) -> Conversation:
        chat_id = next(_ids)
        return self._add(Conversation("telegram", f"telegram:{chat_id}", str(chat_id)))

    def wechat(self) -> Conversation:
        openid = "o" + uuid.uuid4().hex[:27]
        return self._add(Conversation("wechat", f"wechat:{openid}", openid))

    def webchat(self) -> Conversation:
        session_id = uuid.uuid4().hex
        return self._add(Conversation("webchat", f"webchat:{session_id}", session_id))

    def _add(self, conversation: Conversation) -> Conversation:
        self.conversations.append(conversation)
        return conversation

    async def say(self, conversation: Conversation, text: str) -> bool:
        """Sends one message; True when the platform got its acknowledgement."""
        conversation.sent += 1
        try:
            key = await getattr(self, f"_{conversation.channel}")(conversation, text)
        except (httpx.HTTPError, socketio.exceptions.SocketIOError, asyncio.TimeoutError) as error:
            conversation.refused.append(f"{text}: {error!r}")
            return False
        conversation.acknowledged.append(key)
        return True

    async def burst(self, conversation: Conversation, texts: Iterable[str]) -> None:
        """Sends ``texts`` one after the other, each once the previous one was acknowledged."""
        for text in texts:
            await self.say(conversation, text)

    async def _telegram(self, conversation: Conversation, text: str) -> str:
        update_id = next(_ids)
        chat = {"id": int(conversation.recipient), "type": "private", "first_name": "Test"}
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": chat,
                "from": {
                    "id": chat["id"],
                    "is_bot": False,
                    "first_name": "Test",
                    "language_code": "zh-CN",
                },
                "text": text,
            },
        }
        response = await self._http.post(
            f"{self.rasa_url}/webhooks/telegram/webhook",
            json=update,
            headers={SECRET_HEADER: TELEGRAM_SECRET},
        )
        response.raise_for_status()
        return f"telegram:{self._bot_id}:update:{update_id}"

    async def _wechat(self, conversation: Conversation, text: str) -> str:
        msg_id = str(next(_ids))
        xml = push(
            "text.xml",
            FromUserName=conversation.recipient,
            Content=text,
            CreateTime=str(int(time.time())),
            MsgId=msg_id,
        )
        response = await self._http.post(
            f"{self.rasa_url}/webhooks/wechat/webhook",
            params=signed_query(WECHAT_TOKEN),
            content=xml.encode(),
            headers={"Content-Type": "text/xml"},
        )
        response.raise_for_status()
        if response.text != "success":
            raise httpx.HTTPError(f"WeChat webhook answered {response.text!r}")
        return f"wechat:{WECHAT_ACCOUNT}:msg:{msg_id}"

    async def _webchat(self, conversation: Conversation, text: str) -> str:
        client = self._sockets.get(conversation.recipient)
        if client is None or not client.connected:
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(
                self.rasa_url, socketio_path="/socket.io", transports=["websocket"], wait_timeout=10
            )
            self._sockets[conversation.recipient] = client
        message_id = uuid.uuid4().hex
        answer = await client.call(
            "user_uttered",
            {
                "message": text,
                "session_id": conversation.recipient,
                "message_id": message_id,
                "seq": conversation.sent,
                "metadata": {"language_code": "zh-CN"},
            },
            timeout=10,
        )
        if answer != "accepted":
            raise socketio.exceptions.SocketIOError(f"web chat answered {answer!r}")
        return f"{conversation.conversation_id}:{message_id}"

    async def drop_sockets(self) -> None:
        """Forgets the web chat sockets (their server died); the next message reconnects."""
        for client in self._sockets.values():
            try:
                await client.disconnect()
            except Exception:
                pass
        self._sockets.clear()


@dataclass
class Outcome:
    """What became of one conversation's acknowledged messages, from Rasa's tracker."""

    conversation: Conversation
    handled: list[str]  # message ids of the user events, in the tracker's order
    unanswered: list[str]  # handled messages no bot message followed
    bot_messages: int

    @property
    def lost(self) -> list[str]:
        return [key for key in self.conversation.acknowledged if key not in self.handled]

    @property
    def twice(self) -> list[str]:
        return sorted({key for key in self.handled if self.handled.count(key) > 1})

    @property
    def in_order(self) -> bool:
        ours = [key for key in self.handled if key in self.conversation.acknowledged]
        return ours == self.conversation.acknowledged


def outcome(rasa_url: str, conversation: Conversation) -> Outcome:
    """Reads the conversation's tracker."""
    events: list[dict[str, Any]] = httpx.get(
        f"{rasa_url}/conversations/{conversation.conversation_id}/tracker", timeout=30
    ).json()["events"]
    handled: list[str] = []
    unanswered: list[str] = []
    bot_messages = 0
    current: str | None = None
    for event in events:
        if event["event"] == "user":
            if current is not None:
                unanswered.append(current)
            current = str(event.get("message_id"))
            handled.append(current)
        elif event["event"] == "bot":
            bot_messages += 1
            current = None
    if current is not None:
        unanswered.append(current)
    return Outcome(conversation, handled, unanswered, bot_messages)


def everyone_answered(rasa_url: str, conversations: Iterable[Conversation]) -> bool:
    """Whether every acknowledged message is in its tracker with an answer after it."""
    for conversation in conversations:
        found = outcome(rasa_url, conversation)
        if found.lost or found.unanswered:
            return False
    return True


def delivered(conversation: Conversation, telegram: TelegramApi, wechat: WeChatApi) -> int | None:
    """Answers the platform stand-in delivered to the customer (None for web chat).

    The intake's "one moment" notices are not answers, and not in the tracker.
    """
    if conversation.channel == "telegram":
        texts = telegram.sent_texts(int(conversation.recipient))
    elif conversation.channel == "wechat":
        texts = wechat.texts(conversation.recipient)
    else:
        return None
    return len([text for text in texts if text not in NOTICES.values()])


def report(
    rasa_url: str,
    conversations: Iterable[Conversation],
    telegram: TelegramApi,
    wechat: WeChatApi,
) -> dict[str, Any]:
    """The fault table's numbers: sent, acknowledged, answered, lost, twice, out of order.

    ``twice`` counts messages Rasa handled twice (in the tracker);
    ``replies_repeated`` replies the platform got more often than the tracker
    holds them, per conversation (a send in flight when a process was killed).
    """
    totals: dict[str, Any] = {
        "sent": 0,
        "acknowledged": 0,
        "answered": 0,
        "lost": [],
        "twice": [],
        "out_of_order": [],
        "unanswered": [],
        "replies_missing": [],
        "replies_repeated": {},
    }
    for conversation in conversations:
        found = outcome(rasa_url, conversation)
        totals["sent"] += conversation.sent
        totals["acknowledged"] += len(conversation.acknowledged)
        totals["answered"] += len(
            [key for key in conversation.acknowledged if key in found.handled]
        ) - len(found.unanswered)
        totals["lost"] += found.lost
        totals["twice"] += found.twice
        totals["unanswered"] += found.unanswered
        if not found.in_order:
            totals["out_of_order"].append(conversation.conversation_id)
        sent_to_customer = delivered(conversation, telegram, wechat)
        if sent_to_customer is not None and sent_to_customer < found.bot_messages:
            totals["replies_missing"].append(
                f"{conversation.conversation_id}: {sent_to_customer} delivered, "
                f"{found.bot_messages} in the tracker"
            )
        if sent_to_customer is not None and sent_to_customer > found.bot_messages:
            totals["replies_repeated"][conversation.conversation_id] = (
                sent_to_customer - found.bot_messages
            )
    return totals
