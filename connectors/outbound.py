"""``POST /webhooks/<channel>/outbound``: the handoff service talks through a connector.

Agents' replies (and the CSAT prompt) leave through the same output channel
as the bot's replies (principle 3), so every connector mounts this route on
its own blueprint through a subclass of :class:`OutboundService`. The request carries the
shared service token (``Authorization: Bearer <HANDOFF_SERVICE_TOKEN>``,
compared in constant time, else 403), a body of at most 64 KiB (else 413)
and either a message or a customer message to process again (else 400)::

    {"recipient_id": "telegram:42", "text": "...", "buttons": [{"title": "5", "payload": "5"}]}
    {"recipient_id": "telegram:42", "replay_text": "..."}

A message is sent before the answer: 200 ``{"sent": true}``, or 502
``{"sent": false, "error": "..."}`` when the platform refused it. A replay is
handed to Rasa as a new customer message on that channel, in the background
(as the platforms' webhooks do): 200 ``{"sent": true, "replayed": true}``.

:class:`OutboundService` holds these steps once, as Chatwoot's
``Base::SendOnChannelService`` does; a platform's subclass implements only
:meth:`OutboundService.send_reply`, its own send call.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings as bot_settings
from bot.common.clean_text import clean_text
from bot.common.service_token import token_matches
from connectors.background import BackgroundTasks
from connectors.body import read_body
from connectors.errors import ConnectorError, Forbidden, MalformedRequest, RequestRefused
from connectors.routes import as_route

logger = logging.getLogger(__name__)

OUTBOUND_PATH = "/outbound"
MAX_OUTBOUND_BYTES = 64 * 1024
MAX_RECIPIENT_CHARS = 256
MAX_BUTTONS = 20
# Marks a replayed message in the tracker, so the handoff service can tell
# it from the customer's original (which it already stored).
REPLAY_METADATA = {"handoff": {"replay": True}}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class MalformedOutbound(MalformedRequest):
    """The body is not a valid outbound request, or names no such recipient."""


class SendRefused(ConnectorError):
    """The platform refused the message (the route answers 502 with the reason)."""


@dataclass(frozen=True)
class Outbound:
    """One outbound request.

    Attributes:
        recipient_id: The conversation id (``telegram:42``).
        text: The message to send, or None for a replay.
        buttons: Buttons under the message (``{"title", "payload"}``).
        replay_text: A customer message to process again, or None.
    """

    recipient_id: str
    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    replay_text: str | None = None


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MalformedOutbound(f"{name} must be a non-empty string")
    return value


def _buttons(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_BUTTONS:
        raise MalformedOutbound(f"buttons must be a list of at most {MAX_BUTTONS}")
    buttons = []
    for button in value:
        if not isinstance(button, dict):
            raise MalformedOutbound("each button must be an object")
        title, payload = button.get("title"), button.get("payload")
        if not isinstance(title, str) or not title.strip():
            raise MalformedOutbound("each button needs a title")
        if not isinstance(payload, str) or not payload.strip():
            raise MalformedOutbound("each button needs a payload")
        buttons.append({"title": title, "payload": payload})
    return buttons


def parse_outbound(raw: bytes, *, channel: str) -> Outbound:
    """Reads an outbound request body for ``channel``.

    Raises:
        MalformedOutbound: Not JSON, not an object, another channel's
            conversation, or not exactly one of ``text`` and ``replay_text``.
    """
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedOutbound(f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise MalformedOutbound("body must be a JSON object")
    recipient = body.get("recipient_id")
    if (
        not isinstance(recipient, str)
        or not recipient.startswith(f"{channel}:")
        or len(recipient) <= len(channel) + 1
        or len(recipient) > MAX_RECIPIENT_CHARS
    ):
        raise MalformedOutbound(f"recipient_id must be a {channel}:<id> conversation id")
    text, replay_text = _text(body, "text"), _text(body, "replay_text")
    if (text is None) == (replay_text is None):
        raise MalformedOutbound("exactly one of text and replay_text is needed")
    buttons = _buttons(body.get("buttons"))
    if buttons and text is None:
        raise MalformedOutbound("buttons go with a text")
    return Outbound(recipient, text=text, buttons=buttons, replay_text=replay_text)


def replayed_message(message: Outbound, output: OutputChannel, channel: str) -> UserMessage:
    """The replayed customer message, as the channel's webhook would have built it."""
    return UserMessage(
        clean_text(message.replay_text or ""),
        output,
        message.recipient_id,
        input_channel=channel,
        metadata=json.loads(json.dumps(REPLAY_METADATA)),
    )


async def feed(on_new_message: OnNewMessage, message: UserMessage) -> None:
    """Hands ``message`` to Rasa (a coroutine for :class:`BackgroundTasks`)."""
    await on_new_message(message)


class OutboundService(abc.ABC):
    """``POST /outbound`` of one connector: the shared steps, and a platform's send.

    The steps every platform shares live here once: the service token, the
    size limit, parsing, replaying a customer message through Rasa, and the
    answer (200, or 400/403/413, or 502 with the platform's reason). A
    platform's subclass implements only :meth:`send_reply`.

    Args:
        channel: The connector's name; recipients must be ``<channel>:<id>``.
        output: The connector's output channel; a replayed message is
            answered through it.
        background: Where replays run after the request is answered.
        on_new_message: Rasa's handler of a customer message.
        token: The service token; by default from the settings, read now so
            that a missing production token stops the server at start-up.
    """

    def __init__(
        self,
        *,
        channel: str,
        output: OutputChannel,
        background: BackgroundTasks,
        on_new_message: OnNewMessage,
        token: str | None = None,
    ) -> None:
        self.channel = channel
        self.output = output
        self._background = background
        self._on_new_message = on_new_message
        self._token = token or bot_settings.service_token(bot_settings.load())

    @abc.abstractmethod
    async def send_reply(self, message: Outbound) -> None:
        """Sends ``message.text`` (with its buttons) through the platform.

        Raises:
            MalformedOutbound: The recipient is not one of the platform's (400).
            SendRefused: The platform refused the message (502).
        """

    def mount(self, blueprint: Blueprint) -> None:
        """Mounts ``POST /outbound`` on the connector's blueprint (``/webhooks/<channel>``)."""

        blueprint.add_route(
            as_route(self.handle),
            OUTBOUND_PATH,
            methods=["POST"],
            stream=True,
            name=f"{self.channel}_outbound",
        )

    async def handle(self, request: Request) -> HTTPResponse:
        """Answers one outbound request (the route's handler)."""
        try:
            if not token_matches(request.headers.get("authorization"), self._token):
                raise Forbidden("wrong or missing service token")
            body = await read_body(request, MAX_OUTBOUND_BYTES)
            message = parse_outbound(body, channel=self.channel)
        except RequestRefused as error:
            logger.warning(
                "%s outbound request refused (%s): %s", self.channel, error.status, error
            )
            return response.json({"sent": False, "error": str(error)}, status=error.status)
        if message.replay_text is not None:
            self.replay(message)
            return response.json({"sent": True, "replayed": True})
        try:
            await self.send_reply(message)
        except MalformedOutbound as error:
            return response.json({"sent": False, "error": str(error)}, status=400)
        except SendRefused as error:
            logger.warning(
                "%s refused a message to %s: %s", self.channel, message.recipient_id, error
            )
            return response.json({"sent": False, "error": str(error)}, status=502)
        return response.json({"sent": True})

    def replay(self, message: Outbound) -> None:
        """Processes ``message.replay_text`` as a new customer message, in the background."""
        self._background.start(
            feed(self._on_new_message, replayed_message(message, self.output, self.channel)),
            name=f"{self.channel}-replay-{message.recipient_id}",
        )
