"""``POST /webhooks/<channel>/outbound``: the handoff service talks through a connector.

Agents' replies (and the CSAT prompt) leave through the same output channel
as the bot's replies (principle 3), so every connector mounts this route on
its own blueprint with :func:`add_outbound_route`. The request carries the
shared service token (``Authorization: Bearer <HANDOFF_SERVICE_TOKEN>``,
compared in constant time, else 403), a body of at most 64 KiB (else 413)
and either a message or a customer message to process again (else 400)::

    {"recipient_id": "telegram:42", "text": "...", "buttons": [{"title": "5", "payload": "5"}]}
    {"recipient_id": "telegram:42", "replay_text": "..."}

A message is sent before the answer: 200 ``{"sent": true}``, or 502
``{"sent": false, "error": "..."}`` when the platform refused it. A replay is
handed to Rasa as a new customer message on that channel, in the background
(as the platforms' webhooks do): 200 ``{"sent": true, "replayed": true}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings as bot_settings
from bot.common.service_token import token_matches

logger = logging.getLogger(__name__)

OUTBOUND_PATH = "/outbound"
MAX_OUTBOUND_BYTES = 64 * 1024
MAX_RECIPIENT_CHARS = 256
MAX_BUTTONS = 20
# Marks a replayed message in the tracker, so the handoff service can tell
# it from the customer's original (which it already stored).
REPLAY_METADATA = {"handoff": {"replay": True}}


class OutboundError(Exception):
    """A refused outbound request; ``status`` is the HTTP answer."""

    status = 400


class Forbidden(OutboundError):
    """The service token is missing or wrong."""

    status = 403


class MalformedOutbound(OutboundError):
    """The body is not a valid outbound request."""

    status = 400


class OutboundTooLarge(OutboundError):
    """The body is over :data:`MAX_OUTBOUND_BYTES`."""

    status = 413


class SendRefused(Exception):
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


async def read_limited_body(request: Request, limit: int = MAX_OUTBOUND_BYTES) -> bytes:
    """The request body, reading no further than ``limit`` bytes.

    Raises:
        OutboundTooLarge: The body is (or declares to be) over the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OutboundTooLarge(f"Content-Length {declared}")
    stream = getattr(request, "stream", None)
    if request.body or stream is None:  # a route that read the body already
        body = bytes(request.body or b"")
        if len(body) > limit:
            raise OutboundTooLarge(f"body over {limit} bytes")
        return body
    chunks: list[bytes] = []
    size = 0
    try:
        while (chunk := await stream.read()) is not None:
            size += len(chunk)
            if size > limit:
                raise OutboundTooLarge(f"body over {limit} bytes")
            chunks.append(chunk)
    except PayloadTooLarge as error:
        raise OutboundTooLarge(str(error)) from error
    return b"".join(chunks)


Send = Callable[[Outbound], Awaitable[None]]
Replay = Callable[[Outbound], None]
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def replayed_message(message: Outbound, output: OutputChannel, channel: str) -> UserMessage:
    """The replayed customer message, as the channel's webhook would have built it."""
    return UserMessage(
        message.replay_text,
        output,
        message.recipient_id,
        input_channel=channel,
        metadata=json.loads(json.dumps(REPLAY_METADATA)),
    )


async def feed(on_new_message: OnNewMessage, message: UserMessage) -> None:
    """Hands ``message`` to Rasa (a coroutine for :class:`BackgroundTasks`)."""
    await on_new_message(message)


def add_outbound_route(
    blueprint: Blueprint, *, channel: str, send: Send, replay: Replay, token: str | None = None
) -> None:
    """Mounts ``POST /outbound`` on a connector's blueprint.

    Args:
        blueprint: The connector's blueprint (mounted at ``/webhooks/<channel>``).
        channel: The connector's name; recipients must be ``<channel>:<id>``.
        send: Sends a message through the connector's output channel; raises
            :class:`SendRefused` when the platform refuses it.
        replay: Starts processing ``replay_text`` as a new customer message
            (in the background) through the connector's ``on_new_message``.
        token: The service token; by default from the settings, read now so
            that a missing production token stops the server at start-up.
    """
    expected = token or bot_settings.service_token(bot_settings.load())

    async def outbound(request: Request) -> HTTPResponse:
        try:
            if not token_matches(request.headers.get("authorization"), expected):
                raise Forbidden("wrong or missing service token")
            message = parse_outbound(await read_limited_body(request), channel=channel)
        except OutboundError as error:
            logger.warning("%s outbound request refused (%s): %s", channel, error.status, error)
            return response.json({"sent": False, "error": str(error)}, status=error.status)
        if message.replay_text is not None:
            replay(message)
            return response.json({"sent": True, "replayed": True})
        try:
            await send(message)
        except MalformedOutbound as error:
            return response.json({"sent": False, "error": str(error)}, status=400)
        except SendRefused as error:
            logger.warning("%s refused a message to %s: %s", channel, message.recipient_id, error)
            return response.json({"sent": False, "error": str(error)}, status=502)
        return response.json({"sent": True})

    blueprint.add_route(
        outbound, OUTBOUND_PATH, methods=["POST"], stream=True, name=f"{channel}_outbound"
    )
