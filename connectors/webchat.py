"""The web chat: a page shops link or embed, speaking Rasa's socket.io protocol.

``WebChatInput`` is Rasa's socketio channel with the shop's rules: the
conversation id is ``webchat:<session_id>`` (it is also the socket.io room
every tab of that session joins, so any process can reach the customer),
sessions always persist (a reload or a reconnect keeps the conversation),
messages are acknowledged at once and processed in the background, retries
carrying the same ``message_id`` are answered once, and anything but text
gets a polite reply. Existing Rasa web-chat widgets work unchanged: the
events are Rasa's (``session_request``/``session_confirm``,
``user_uttered``/``bot_uttered``).

With ``REDIS_URL`` set the socket.io server uses Redis as its client manager,
so a reply emitted by any replica, or by another service through
:func:`redis_output`, reaches the customer's room wherever they are
connected. The page, its files and the history live in
:mod:`connectors.webchat_page`. Agents' replies come from the handoff service
through ``POST /webhooks/webchat/outbound`` (:mod:`connectors.outbound`) and
leave through the same output as the bot's.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import settings as bot_settings
from connectors.background import BackgroundTasks
from connectors.dedupe import SeenMessages, seen_messages_from_settings
from connectors.outbound import Outbound, SendRefused, add_outbound_route, feed, replayed_message
from connectors.webchat_feedback import add_feedback_route
from connectors.webchat_page import add_page_routes
from connectors.webchat_parse import (
    Inbound,
    InboundKind,
    conversation_id,
    parse_user_uttered,
    session_id_of,
)

logger = logging.getLogger(__name__)

__all__ = [
    "REDIS_CHANNEL",
    "WebChatConfigError",
    "WebChatError",
    "WebChatInput",
    "WebChatOutput",
    "conversation_id",
    "redis_output",
]

# The pub/sub channel of the socket.io Redis manager; every process that
# pushes to web chat customers must use the same one.
REDIS_CHANNEL = "shop-assistant:webchat"
# A socket.io packet carries one message of at most a few thousand characters.
MAX_PACKET_BYTES = 64 * 1024
# How long a reply's sender yields so the socket writers can send it at once.
FLUSH_PAUSE_S = 0.001


class WebChatError(Exception):
    """Base of every error the web chat connector raises."""


class WebChatConfigError(WebChatError, ValueError):
    """A web chat setting is unusable; the channel refuses to start."""


def _redis_url(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise WebChatConfigError(f"redis_url must be a redis:// URL, got {value!r}")
    return value


def _socketio_path(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) < 2:
        raise WebChatConfigError(f"socketio_path must be a path like /socket.io, got {value!r}")
    if any(c in value for c in "?#\"'<> "):
        raise WebChatConfigError(f"socketio_path must be a plain path, got {value!r}")
    return value.rstrip("/")


class WebChatOutput(SocketIOOutput):
    """Sends to a web chat conversation's room, from a server or a Redis manager.

    Messages keep the shape of Rasa's socketio channel: ``{"text": ...}``,
    with ``quick_replies`` (``{"content_type", "title", "payload"}``) for
    buttons.
    """

    @classmethod
    def name(cls) -> str:
        """The channel's name, as Rasa's trackers record it."""
        return "webchat"

    def __init__(self, sio: Any, bot_message_evt: str = "bot_uttered") -> None:
        """Creates the output.

        Args:
            sio: A ``socketio.AsyncServer``, or a write-only
                ``socketio.AsyncRedisManager`` (see :func:`redis_output`).
            bot_message_evt: The event clients listen to.
        """
        super().__init__(sio, bot_message_evt)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        # Positional data and a room: the call both AsyncServer.emit and
        # AsyncPubSubManager.emit accept.
        await self.sio.emit(self.bot_message_evt, response, room=socket_id)
        # The emit only queues the packet for each socket's writer task, and
        # Rasa goes on with the turn (the next prediction, the tracker's save)
        # without giving the event loop back: the reply would leave with the
        # turn's end. A moment's sleep lets the writer put it on the wire now.
        await asyncio.sleep(FLUSH_PAUSE_S)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Sends a response's ``custom`` JSON as the message itself."""
        await self._send_message(recipient_id, json_message)


def client_manager(redis_url: str | None) -> Any:
    """The socket.io client manager: Redis when configured, else in-process."""
    if redis_url is None:
        return None
    return socketio.AsyncRedisManager(redis_url, channel=REDIS_CHANNEL)


def redis_output(redis_url: str, *, bot_message_evt: str = "bot_uttered") -> WebChatOutput:
    """An output channel for a process that serves no web chat itself.

    The handoff service sends agents' replies through it: they reach the
    customer's room through Redis, on whichever Rasa server the customer is
    connected to.
    """
    manager = socketio.AsyncRedisManager(
        _redis_url(redis_url), channel=REDIS_CHANNEL, write_only=True
    )
    return WebChatOutput(manager, bot_message_evt)


async def _maybe_await(result: object) -> None:
    # enter_room/leave_room became coroutines in later python-socketio versions.
    if inspect.isawaitable(result):
        await result


class WebChatInput(SocketIOInput):
    """The web chat input channel (Rasa's socketio channel, shop rules).

    Mounted at ``/webhooks/webchat/`` (the page, its files, the history) plus
    the socket.io endpoint at ``socketio_path``.
    """

    @classmethod
    def name(cls) -> str:
        """The URL slug: ``/webhooks/webchat/``."""
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        """Builds the channel from its ``credentials.yml`` section.

        Raises:
            WebChatConfigError: A setting is unusable.
        """
        credentials = credentials or {}
        return cls(
            socketio_path=_socketio_path(credentials.get("socketio_path") or "/socket.io"),
            redis_url=_redis_url(credentials.get("redis_url")),
            user_message_evt=str(credentials.get("user_message_evt") or "user_uttered"),
            bot_message_evt=str(credentials.get("bot_message_evt") or "bot_uttered"),
        )

    def __init__(
        self,
        *,
        socketio_path: str = "/socket.io",
        redis_url: str | None = None,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        seen_messages: SeenMessages | None = None,
    ) -> None:
        """Creates the channel.

        Args:
            socketio_path: Where the socket.io endpoint listens.
            redis_url: Redis for the socket.io client manager, or None.
            user_message_evt: The event clients send messages with.
            bot_message_evt: The event the bot's messages go out with.
            seen_messages: Where message ids are claimed; by default from the
                settings (Redis when ``REDIS_URL`` is set, else the database),
                built when the blueprint is.
        """
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=None,
            session_persistence=True,
            socketio_path=_socketio_path(socketio_path),
        )
        self.redis_url = _redis_url(redis_url)
        self._seen = seen_messages
        self.background = BackgroundTasks()

    def get_output_channel(self) -> WebChatOutput | None:
        """The output for Rasa's HTTP API (``output_channel=webchat``)."""
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def url_prefix(self) -> str:
        """Mounted under ``/webhooks/webchat``."""
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The page, its files, the history and the socket.io server."""
        settings = bot_settings.load()
        seen = self._seen or seen_messages_from_settings(settings)
        sio = socketio.AsyncServer(
            async_mode="sanic",
            # CORS is Sanic's (``rasa run --cors``), as in Rasa's socketio channel.
            cors_allowed_origins=[],
            client_manager=client_manager(self.redis_url),
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "webchat_webhook", __name__)
        add_page_routes(
            blueprint,
            base_path=f"/webhooks/{self.url_prefix()}/",
            socketio_path=self.socketio_path or "/socket.io",
        )
        add_feedback_route(
            blueprint,
            handoff_url=settings.handoff_url,
            token=lambda: bot_settings.service_token(settings),
            timeout_s=settings.handoff_timeout_s,
        )
        output = WebChatOutput(sio, self.bot_message_evt)

        async def bind(sid: str, session_id: str) -> None:
            async with sio.session(sid) as session:
                previous = session.get("session_id")
                session["session_id"] = session_id
            if previous and previous != session_id:
                await _maybe_await(sio.leave_room(sid, conversation_id(previous)))
            await _maybe_await(sio.enter_room(sid, conversation_id(session_id)))

        async def session_of(sid: str, inbound: Inbound) -> str:
            # A client that skipped session_request (or whose server restarted
            # under it) names its session in the message; else the socket's own id.
            bound = (await sio.get_session(sid)).get("session_id")
            if bound:
                return str(bound)
            session_id = inbound.session_id or uuid.uuid4().hex
            await bind(sid, session_id)
            return session_id

        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            logger.debug("web chat socket %s connected", sid)
            return True

        @sio.on("disconnect")
        async def disconnect(sid: str) -> None:
            logger.debug("web chat socket %s disconnected", sid)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            session_id = session_id_of(data) or uuid.uuid4().hex
            await bind(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        async def handle(message: UserMessage) -> None:
            await on_new_message(message)

        @sio.on(self.user_message_evt)
        async def user_uttered(sid: str, data: Any = None) -> str:
            inbound = parse_user_uttered(data)
            if inbound is None:
                return "ignored"
            session_id = await session_of(sid, inbound)
            recipient = conversation_id(session_id)
            if inbound.kind is not InboundKind.TEXT:
                await output.send_text_message(recipient, inbound.reply())
                return inbound.kind.value
            if inbound.message_id and not await seen.claim(f"{recipient}:{inbound.message_id}"):
                return "duplicate"
            message = UserMessage(
                inbound.text,
                output,
                recipient,
                input_channel=self.name(),
                metadata=inbound.metadata,
            )
            self.background.start(handle(message), name=f"webchat {recipient}")
            return "accepted"

        async def send(message: Outbound) -> None:
            try:
                if message.buttons:
                    await output.send_text_with_buttons(
                        message.recipient_id, message.text or "", message.buttons
                    )
                else:
                    await output.send_text_message(message.recipient_id, message.text or "")
            except Exception as error:  # the socket.io server or its Redis manager failed
                raise SendRefused(f"{type(error).__name__}: {error}") from error

        def replay(message: Outbound) -> None:
            self.background.start(
                feed(on_new_message, replayed_message(message, output, self.name())),
                name=f"webchat replay {message.recipient_id}",
            )

        add_outbound_route(blueprint, channel=self.name(), send=send, replay=replay)
        return blueprint
