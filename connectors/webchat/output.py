"""The web chat's output channel, and its send call for the outbound route.

With ``REDIS_URL`` set the socket.io server uses Redis as its client manager,
so a reply emitted by any replica, or by another service through
:func:`redis_output`, reaches the customer's room wherever they are
connected. Agents' replies come from the handoff service through
``POST /webhooks/webchat/outbound`` (:mod:`connectors.outbound`) and leave
through the same output as the bot's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from rasa.core.channels.socketio import SocketIOOutput

from connectors.outbound import Outbound, OutboundService, SendRefused
from connectors.webchat.config import checked_redis_url

# The pub/sub channel of the socket.io Redis manager; every process that
# pushes to web chat customers must use the same one.
REDIS_CHANNEL = "shop-assistant:webchat"
# How long a reply's sender yields so the socket writers can send it at once.
FLUSH_PAUSE_S = 0.001


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
        checked_redis_url(redis_url), channel=REDIS_CHANNEL, write_only=True
    )
    return WebChatOutput(manager, bot_message_evt)


class WebChatOutbound(OutboundService):
    """``POST /webhooks/webchat/outbound``: emits through :class:`WebChatOutput`."""

    output: WebChatOutput

    async def send_reply(self, message: Outbound) -> None:
        """Emits the text (with its buttons) to the conversation's room.

        Raises:
            SendRefused: The socket.io server or its Redis manager failed.
        """
        try:
            if message.buttons:
                await self.output.send_text_with_buttons(
                    message.recipient_id, message.text or "", message.buttons
                )
            else:
                await self.output.send_text_message(message.recipient_id, message.text or "")
        except Exception as error:  # the socket.io server or its Redis manager failed
            raise SendRefused(f"{type(error).__name__}: {error}") from error
