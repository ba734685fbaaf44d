"""The socket.io events a web chat server answers, as methods of one class.

The events are those of Rasa's socketio channel, so existing Rasa web-chat
widgets work unchanged: ``session_request`` is answered with
``session_confirm``, and ``user_uttered`` (the channel's
``user_message_evt``) is acknowledged, once stored in the durable intake
(:mod:`connectors.intake`), with what became of it (``accepted``,
``duplicate``, ``ignored``, ``unsupported``, ``too_long``); the intake hands
it to Rasa, one message at a time per session in the page's ``seq`` order.
When the database cannot store it, no acknowledgement is sent and the page
sends the message again.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any

import socketio
from rasa.core.channels.channel import UserMessage

from bot.common.clean_text import clean_json, clean_text
from connectors.background import BackgroundTasks
from connectors.intake.notice import wait_notice
from connectors.intake.queue import Intake
from connectors.intake.store import Stored, position
from connectors.outbound import OnNewMessage
from connectors.webchat.output import WebChatOutput
from connectors.webchat.parse import (
    Inbound,
    InboundKind,
    conversation_id,
    parse_user_uttered,
    session_id_of,
)

logger = logging.getLogger(__name__)


async def _maybe_await(result: object) -> None:
    # enter_room/leave_room became coroutines in later python-socketio versions.
    if inspect.isawaitable(result):
        await result


class WebChatEvents:
    """The handlers of one socket.io server's events.

    Every tab of a session joins the room ``webchat:<session_id>``, which is
    also the conversation id, so any process can reach the customer.

    Args:
        sio: The socket.io server.
        output: The output the customer's answers leave through.
        intake: Where messages are stored before they are acknowledged and
            processed from; a retried message id is answered once.
        background: The channel's tasks, where the intake's work runs.
        on_new_message: Rasa's handler of a customer message.
        channel: The input channel's name, as Rasa records it.
        user_message_evt: The event clients send messages with.
    """

    def __init__(
        self,
        *,
        sio: socketio.AsyncServer,
        output: WebChatOutput,
        intake: Intake,
        background: BackgroundTasks,
        on_new_message: OnNewMessage,
        channel: str,
        user_message_evt: str,
    ) -> None:
        self._sio = sio
        self._output = output
        self._intake = intake
        self._background = background
        self._on_new_message = on_new_message
        self._channel = channel
        self._user_message_evt = user_message_evt

    def register(self) -> None:
        """Makes the methods below the server's handlers of their events."""
        self._sio.on("connect", self.connect)
        self._sio.on("disconnect", self.disconnect)
        self._sio.on("session_request", self.session_request)
        self._sio.on(self._user_message_evt, self.user_uttered)
        self._intake.bind(self._handle, self._background, self._notify)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        """Accepts every socket; the session is named later."""
        logger.debug("web chat socket %s connected", sid)
        return True

    async def disconnect(self, sid: str) -> None:
        """Nothing to clean: socket.io leaves the socket's rooms itself."""
        logger.debug("web chat socket %s disconnected", sid)

    async def session_request(self, sid: str, data: Any = None) -> None:
        """Binds the socket to the session it names (or a new one) and confirms it."""
        session_id = session_id_of(data) or uuid.uuid4().hex
        await self._bind(sid, session_id)
        await self._sio.emit("session_confirm", session_id, room=sid)

    async def user_uttered(self, sid: str, data: Any = None) -> str:
        """Stores a customer message for Rasa and acknowledges it.

        Returns:
            What became of the message (socket.io's acknowledgement).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: Not stored; python-socketio then
                sends no acknowledgement, so the page sends it again.
        """
        inbound = parse_user_uttered(data)
        if inbound is None:
            return "ignored"
        session_id = await self._session_of(sid, inbound)
        recipient = conversation_id(session_id)
        if inbound.kind is not InboundKind.TEXT:
            await self._output.send_text_message(recipient, inbound.reply())
            return inbound.kind.value
        stored = await self._intake.accept(
            key=f"{recipient}:{inbound.message_id or uuid.uuid4().hex}",
            conversation_id=recipient,
            position=position(inbound.seq or 0),
            payload={
                "text": clean_text(inbound.text or ""),
                "metadata": clean_json(inbound.metadata),
            },
        )
        return "accepted" if stored else "duplicate"

    async def _handle(self, message: Stored) -> None:
        await self._on_new_message(
            UserMessage(
                str(message.payload.get("text") or ""),
                self._intake.output_for(message, self._output),
                message.conversation_id,
                input_channel=self._channel,
                message_id=message.key,
                metadata=message.payload.get("metadata") or {},
            )
        )

    async def _notify(self, conversation_id: str, payload: dict[str, Any]) -> None:
        notice = wait_notice(payload.get("text"), payload.get("metadata"))
        await self._output.send_text_message(conversation_id, notice)

    async def _bind(self, sid: str, session_id: str) -> None:
        async with self._sio.session(sid) as session:
            previous = session.get("session_id")
            session["session_id"] = session_id
        if previous and previous != session_id:
            await _maybe_await(self._sio.leave_room(sid, conversation_id(previous)))
        await _maybe_await(self._sio.enter_room(sid, conversation_id(session_id)))

    async def _session_of(self, sid: str, inbound: Inbound) -> str:
        # A client that skipped session_request (or whose server restarted
        # under it) names its session in the message; else the socket's own id.
        bound = (await self._sio.get_session(sid)).get("session_id")
        if bound:
            return str(bound)
        session_id = inbound.session_id or uuid.uuid4().hex
        await self._bind(sid, session_id)
        return session_id
