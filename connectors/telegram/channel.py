"""Telegram: a Rasa input channel (webhook) and output channel (Bot API).

Uses python-telegram-bot (``Bot``, ``Update.de_json``), not Rasa's aiogram
channel, which calls ``getMe`` on every webhook to "verify" it. Here the bot
is built once, initialised once at server start (one ``getMe``), and, when
``webhook_url`` is set, registers the webhook with its ``secret_token``.

The handoff service sends agents' replies through the same output with
``POST /webhooks/telegram/outbound`` (see :mod:`connectors.telegram.output`).

The webhook (``POST /webhooks/telegram/webhook``) checks Telegram's
``X-Telegram-Bot-Api-Secret-Token`` header in constant time (403), limits
the body (413), parses it (400), stores it in the durable intake keyed by
its ``update_id`` (:mod:`connectors.intake`; a retry finds the key taken),
acknowledges with 200 only once stored (503 when the database is down, so
Telegram retries), and the intake hands it to the assistant, one update at
a time per chat in ``update_id`` order. When the answer takes more than a second, the chat shows
"typing…" until it arrives. See :mod:`connectors.telegram.parse` for what
each kind of update leads to, :mod:`connectors.telegram.send` for the
outbound path and :mod:`connectors.telegram.http` for why Bot API calls go
through aiohttp.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.common.clean_text import clean_json, clean_text
from bot.common.languages import from_language_code
from bot.common.text_only import text_only_reply
from connectors.background import BackgroundTasks
from connectors.body import read_body
from connectors.errors import BodyTooLarge
from connectors.intake.notice import wait_notice
from connectors.intake.queue import Intake
from connectors.intake.rasa import intake_from_settings, mount_listeners
from connectors.intake.store import Stored, position
from connectors.telegram.errors import MalformedUpdate, TelegramConfigError
from connectors.telegram.http import AiohttpRequest
from connectors.telegram.output import TelegramOutbound, TelegramOutput
from connectors.telegram.parse import Inbound, InboundKind, parse_update
from connectors.telegram.send import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_TYPING_AFTER_S,
    TelegramSender,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; anything near this is not one.
MAX_BODY_BYTES = 1024 * 1024
# Only what the assistant answers; Telegram then skips the rest.
ALLOWED_UPDATES = ("message", "callback_query")
SHUTDOWN_GRACE_S = 30.0

_BOT_TOKEN = re.compile(r"(\d+):[A-Za-z0-9_-]+")
# Telegram allows 1-256 of these characters; we demand at least 16.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")
_CREDENTIAL_KEYS = {"bot_token", "secret_token", "webhook_url", "api_base_url"}

# Telegram reports the language the customer's app is set to; one we do not
# speak gets both of ours.
_SPOKEN_CODE_PREFIXES = ("zh", "en")


def unsupported_reply(language_code: str | None) -> str:
    """The polite "text only" reply, in the customer's Telegram language if we speak it."""
    code = (language_code or "").lower()
    language = from_language_code(code) if code.startswith(_SPOKEN_CODE_PREFIXES) else None
    return text_only_reply(language)


class TelegramInput(InputChannel):
    """Receives Telegram updates on ``/webhooks/telegram/webhook``.

    Args:
        bot_token: The token from @BotFather.
        secret_token: What Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``.
        intake: Where updates are stored before they are acknowledged; by
            default the connectors' database of the settings.
        webhook_url: When set, registered with Telegram at start-up.
        api_base_url: The Bot API server (a stand-in in tests, or a local one).
        max_body_bytes: Larger webhook bodies are refused with 413.
        max_attempts: Tries per Bot API call when Telegram answers 429.
        max_retry_after_s: Longest ``retry_after`` waited out; a longer one fails.
        typing_after_s: "typing…" is shown when an answer takes longer than this.

    Raises:
        TelegramConfigError: A setting is missing or unusable.
    """

    def __init__(
        self,
        *,
        bot_token: str,
        secret_token: str,
        intake: Intake | None = None,
        webhook_url: str | None = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        typing_after_s: float = DEFAULT_TYPING_AFTER_S,
    ) -> None:
        token = _BOT_TOKEN.fullmatch(bot_token or "")
        if token is None:
            raise TelegramConfigError("bot_token must look like <bot id>:<secret> (@BotFather)")
        if not _SECRET_TOKEN.fullmatch(secret_token or ""):
            raise TelegramConfigError(
                "secret_token must be 16-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if webhook_url and not _is_url(webhook_url, schemes=("https",)):
            raise TelegramConfigError("webhook_url must be an https:// URL (Telegram demands it)")
        if not _is_url(api_base_url, schemes=("http", "https")):
            raise TelegramConfigError("api_base_url must be an http(s):// URL")
        api = api_base_url.rstrip("/")
        self._bot_id = int(token.group(1))
        self._secret = secret_token.encode()
        self.intake = intake if intake is not None else intake_from_settings(self.name())
        self._webhook_url = webhook_url or None
        self._max_body_bytes = max_body_bytes
        self._bot = Bot(
            bot_token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
            request=AiohttpRequest(),
        )
        self.background = BackgroundTasks()
        self._sender = TelegramSender(
            self._bot,
            self.background,
            max_attempts=max_attempts,
            max_retry_after_s=max_retry_after_s,
            typing_after_s=typing_after_s,
        )
        self._output = TelegramOutput(self._sender)
        self._started = False

    @classmethod
    def name(cls) -> str:
        """The URL slug: ``/webhooks/telegram/webhook``."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        """Builds the channel from its ``credentials.yml`` section.

        Raises:
            TelegramConfigError: A setting is missing, unknown or unusable.
        """
        if not credentials:
            raise TelegramConfigError("the Telegram section of credentials.yml is empty")
        unknown = set(credentials) - _CREDENTIAL_KEYS
        if unknown:
            raise TelegramConfigError(f"unknown Telegram settings: {sorted(unknown)}")
        return cls(
            bot_token=str(credentials.get("bot_token") or ""),
            secret_token=str(credentials.get("secret_token") or ""),
            webhook_url=str(credentials.get("webhook_url") or "") or None,
            api_base_url=str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL),
        )

    def get_output_channel(self) -> TelegramOutput:
        """The one output channel of this bot (Rasa's API and agents use it too)."""
        return self._output

    async def start(self) -> None:
        """Initialises the bot (one ``getMe``) and registers the webhook if configured.

        Raises:
            TelegramConfigError: Telegram rejected the token or the webhook.
        """
        if self._started:
            return
        try:
            await self._bot.initialize()
            if self._webhook_url:
                await self._bot.set_webhook(
                    url=self._webhook_url,
                    secret_token=self._secret.decode(),
                    allowed_updates=list(ALLOWED_UPDATES),
                )
        except InvalidToken:
            # Not chained: python-telegram-bot's message repeats the token.
            raise TelegramConfigError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
        except TelegramError as error:
            raise TelegramConfigError(f"Telegram start-up failed: {error}") from error
        self._started = True
        logger.info("Telegram bot @%s ready", self._bot.username)

    async def drain(self, timeout_s: float = SHUTDOWN_GRACE_S) -> None:
        """Lets updates in flight finish, for at most ``timeout_s``; the rest stay stored."""
        await self.intake.stop(timeout_s)
        try:
            await asyncio.wait_for(asyncio.shield(self.background.wait()), timeout_s)
        except asyncio.TimeoutError:
            logger.warning("%d Telegram updates still in flight at shutdown", len(self.background))

    async def stop(self) -> None:
        """Lets updates in flight finish, then closes the bot's HTTP client."""
        await self.drain()
        await self._bot.shutdown()
        self._started = False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook routes, and the listeners that start and stop the bot."""
        webhook = Blueprint("telegram_webhook", __name__)

        async def handle(message: Stored) -> None:
            output = self.intake.output_for(message, self._output)
            await self._process(_inbound_of(message.payload), message.key, on_new_message, output)

        async def notify(conversation_id: str, payload: dict[str, Any]) -> None:
            inbound = _inbound_of(payload)
            notice = wait_notice(inbound.text, inbound.metadata)
            await self._output.send_text_message(conversation_id, notice)

        self.intake.bind(handle, self.background, notify)
        mount_listeners(webhook, self.intake)

        @webhook.listener("before_server_start")
        async def start(_app: Any, _loop: Any) -> None:
            await self.start()

        # Before the server stops, while Rasa's agent can still answer them.
        @webhook.listener("before_server_stop")
        async def drain(_app: Any, _loop: Any) -> None:
            await self.drain()

        @webhook.listener("after_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.stop()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        TelegramOutbound(
            channel=self.name(),
            output=self._output,
            background=self.background,
            on_new_message=on_new_message,
        ).mount(webhook)
        return webhook

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        if not self._secret_matches(request.headers.get(SECRET_HEADER)):
            return response.text("forbidden", status=403)
        try:
            body = await read_body(request, self._max_body_bytes)
        except BodyTooLarge:
            return response.text("request body too large", status=413)
        try:
            inbound = parse_update(json.loads(body), self._bot)
        except (ValueError, MalformedUpdate) as error:  # JSONDecodeError is a ValueError
            logger.info("malformed Telegram update: %s", error)
            return response.text("malformed update", status=400)
        if inbound is None:
            return response.text("")
        try:
            stored = await self.intake.accept(
                key=f"telegram:{self._bot_id}:update:{inbound.update_id}",
                conversation_id=inbound.conversation_id,
                position=position(inbound.update_id),
                payload=clean_json(_payload_of(inbound)),
            )
        except SQLAlchemyError:
            logger.exception("Telegram update %s not stored", inbound.update_id)
            return response.text("not stored, try again", status=503)
        if not stored:
            logger.info("Telegram update %s retried, already stored", inbound.update_id)
        return response.text("")

    def _secret_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self._secret)

    async def _process(
        self,
        inbound: Inbound,
        key: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        output: OutputChannel,
    ) -> None:
        if inbound.callback_query_id:
            await self._sender.answer_callback(inbound.callback_query_id)
        if inbound.kind is InboundKind.UNSUPPORTED:
            logger.info("unsupported %s from %s", inbound.content_type, inbound.conversation_id)
            reply = unsupported_reply(inbound.language_code)
            await self._output.send_text_message(inbound.conversation_id, reply)
            return
        with self._sender.typing_if_slow(inbound.chat_id):
            await on_new_message(
                UserMessage(
                    clean_text(inbound.text or ""),
                    output,
                    inbound.conversation_id,
                    input_channel=self.name(),
                    message_id=key,
                    metadata=clean_json(inbound.metadata),
                )
            )


def _payload_of(inbound: Inbound) -> dict[str, Any]:
    fields = dataclasses.asdict(inbound)
    fields["kind"] = inbound.kind.value
    return fields


def _inbound_of(payload: dict[str, Any]) -> Inbound:
    return Inbound(**{**payload, "kind": InboundKind(payload["kind"])})


def _is_url(value: str, *, schemes: tuple[str, ...]) -> bool:
    parts = urlsplit(value)
    return parts.scheme in schemes and bool(parts.netloc)
