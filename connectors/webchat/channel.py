"""The web chat's input channel: Rasa's socketio channel with the shop's rules.

The conversation id is ``webchat:<session_id>`` (it is also the socket.io room
every tab of that session joins, so any process can reach the customer),
sessions always persist (a reload or a reconnect keeps the conversation),
messages are acknowledged once stored in the durable intake
(:mod:`connectors.intake`) and processed from it, retries carrying the same
``message_id`` are answered once, and anything but text
gets a polite reply (:mod:`connectors.webchat.events`). Existing Rasa web-chat
widgets work unchanged: the events are Rasa's
(``session_request``/``session_confirm``, ``user_uttered``/``bot_uttered``).

The page, its files and the history live in :mod:`connectors.webchat.page`,
the thumbs-down in :mod:`connectors.webchat.feedback`, the output and the
outbound route's send in :mod:`connectors.webchat.output`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput
from sanic import Blueprint

from bot import settings as bot_settings
from connectors.background import BackgroundTasks
from connectors.intake.queue import Intake
from connectors.intake.rasa import intake_from_settings, mount_listeners
from connectors.webchat.config import checked_redis_url, checked_socketio_path
from connectors.webchat.events import WebChatEvents
from connectors.webchat.feedback import FeedbackRoute
from connectors.webchat.output import WebChatOutbound, WebChatOutput, client_manager
from connectors.webchat.page import WebChatPage

logger = logging.getLogger(__name__)

# A socket.io packet carries one message of at most a few thousand characters.
MAX_PACKET_BYTES = 64 * 1024


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
            socketio_path=checked_socketio_path(credentials.get("socketio_path") or "/socket.io"),
            redis_url=checked_redis_url(credentials.get("redis_url")),
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
        intake: Intake | None = None,
    ) -> None:
        """Creates the channel.

        Args:
            socketio_path: Where the socket.io endpoint listens.
            redis_url: Redis for the socket.io client manager, or None.
            user_message_evt: The event clients send messages with.
            bot_message_evt: The event the bot's messages go out with.
            intake: Where messages are stored before they are acknowledged;
                by default the connectors' database of the settings, opened
                when the blueprint is built.
        """
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=None,
            session_persistence=True,
            socketio_path=checked_socketio_path(socketio_path),
        )
        self.redis_url = checked_redis_url(redis_url)
        self.intake = intake
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
        """The page, its files, the history, the feedback, the outbound route and socket.io."""
        settings = bot_settings.load()
        if self.intake is None:
            self.intake = intake_from_settings(self.name(), settings)
        intake = self.intake
        sio = socketio.AsyncServer(
            async_mode="sanic",
            # CORS is Sanic's (``rasa run --cors``), as in Rasa's socketio channel.
            cors_allowed_origins=[],
            client_manager=client_manager(self.redis_url),
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "webchat_webhook", __name__)
        WebChatPage(
            base_path=f"/webhooks/{self.url_prefix()}/",
            socketio_path=self.socketio_path or "/socket.io",
        ).mount(blueprint)
        FeedbackRoute(
            handoff_url=settings.handoff_url,
            token=lambda: bot_settings.service_token(settings),
            timeout_s=settings.handoff_timeout_s,
        ).mount(blueprint)
        output = WebChatOutput(sio, self.bot_message_evt)
        WebChatEvents(
            sio=sio,
            output=output,
            intake=intake,
            background=self.background,
            on_new_message=on_new_message,
            channel=self.name(),
            user_message_evt=self.user_message_evt,
        ).register()
        mount_listeners(blueprint, intake)
        WebChatOutbound(
            channel=self.name(),
            output=output,
            background=self.background,
            on_new_message=on_new_message,
        ).mount(blueprint)
        return blueprint
