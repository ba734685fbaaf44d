"""WeChat Official Account channel: ``/webhooks/wechat/webhook``.

WeChat pushes each message as signed XML (encrypted in safe mode) and drops
the request after 5 s, retrying three times. So the webhook checks the
signature, parses safely, stores the message in the durable intake keyed by
its ``MsgId`` (events: sender, time and event; :mod:`connectors.intake`), and
answers ``success`` only once it is stored (503 when the database is down, so
WeChat retries); the intake hands it to Rasa, one message at a time per
customer in ``CreateTime`` + ``MsgId`` order; the
bot's replies go out through the customer-service API
(``message/custom/send``), the same path agents' replies take: the handoff
service posts them to ``/webhooks/wechat/outbound``
(:mod:`connectors.wechat.output`), and WeChat's refusals (45015 once the
48-hour window closed) are recorded in the send-failure log and answered 502.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from wechatpy.crypto import WeChatCrypto

from bot import settings as bot_settings
from bot.common.clean_text import clean_json, clean_text
from bot.common.text_only import BILINGUAL_REPLY
from bot.settings import Settings
from connectors.background import BackgroundTasks
from connectors.body import read_body
from connectors.database import run_quick
from connectors.errors import RequestRefused
from connectors.intake.notice import wait_notice
from connectors.intake.queue import Intake
from connectors.intake.rasa import intake_from_settings, mount_listeners
from connectors.intake.store import Stored, position
from connectors.outbound import OnNewMessage
from connectors.wechat.client import DEFAULT_API_BASE_URL
from connectors.wechat.config import WeChatConfig
from connectors.wechat.errors import ForgedRequest
from connectors.wechat.output import WeChatOutbound, WeChatOutput
from connectors.wechat.parse import (
    CHANNEL,
    MAX_BODY_BYTES,
    Inbound,
    InboundKind,
    conversation_id,
    decode_body,
    open_envelope,
    parse_message,
    verify_signature,
)

logger = logging.getLogger(__name__)

# A new follower: Rasa greets them in its own words.
SUBSCRIBE_MESSAGE = "/greet"
_DRAIN_LIMIT_BYTES = 1024 * 1024

_CHOICE = re.compile(r"\s*(\d{1,2})\s*[.。、]?\s*")


class WeChatInput(InputChannel):
    """The webhook WeChat pushes messages to.

    Args:
        token: WECHAT_TOKEN.
        app_id: WECHAT_APP_ID.
        app_secret: WECHAT_APP_SECRET.
        aes_key: WECHAT_AES_KEY for safe mode, or None for plain mode.
        api_base_url: WECHAT_API_BASE_URL.
        settings: The project's settings (database, Redis); read from the
            environment when omitted.
        intake: Where messages are stored before they are acknowledged; by
            default the connectors' database of the settings.

    Raises:
        WeChatConfigError: A setting is missing or invalid.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        """Builds the channel from its ``credentials.yml`` section."""
        if not credentials:
            cls.raise_missing_credentials_exception()
        section: dict[str, Any] = credentials or {}
        return cls(
            token=str(section.get("token") or ""),
            app_id=str(section.get("app_id") or ""),
            app_secret=str(section.get("app_secret") or ""),
            aes_key=str(section.get("aes_key") or "") or None,
            api_base_url=str(section.get("api_base_url") or DEFAULT_API_BASE_URL),
        )

    def __init__(
        self,
        *,
        token: str,
        app_id: str,
        app_secret: str,
        aes_key: str | None = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        settings: Settings | None = None,
        intake: Intake | None = None,
    ) -> None:
        self.config = WeChatConfig(token, app_id, app_secret, aes_key, api_base_url)
        settings = settings or bot_settings.load()
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.intake = intake if intake is not None else intake_from_settings(CHANNEL, settings)
        self._output = WeChatOutput.from_config(self.config, settings)
        self.background = BackgroundTasks()

    def get_output_channel(self) -> WeChatOutput:
        return self._output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The routes: ``GET /webhook`` (URL check), ``POST /webhook`` (messages)."""
        webhook = Blueprint("wechat_webhook", __name__)

        async def handle(message: Stored) -> None:
            output = self.intake.output_for(message, self._output)
            await self._handle(_inbound_of(message.payload), message.key, on_new_message, output)

        async def notify(conversation_id: str, payload: dict[str, Any]) -> None:
            notice = wait_notice(payload.get("text"), None)
            await self._output.send_text_message(conversation_id, notice)

        self.intake.bind(handle, self.background, notify)
        mount_listeners(webhook, self.intake)

        @webhook.listener("after_server_stop")
        async def close(_app: Any, _loop: Any) -> None:
            await self._output.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            try:
                verify_signature(self.config.token, *_signature_args(request))
            except ForgedRequest as error:
                logger.warning("WeChat URL check refused: %s", error)
                return response.text("forbidden", status=403)
            return response.text(request.args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            try:
                inbound = await self._accept(request)
            except RequestRefused as error:
                logger.warning("WeChat push refused (%s): %s", error.status, error)
                return response.text(type(error).__name__, status=error.status)
            if inbound is not None and not await self._store(inbound):
                return response.text("not stored, try again", status=503)
            return response.text("success")

        WeChatOutbound(
            channel=CHANNEL,
            output=self._output,
            background=self.background,
            on_new_message=on_new_message,
        ).mount(webhook)
        return webhook

    async def _accept(self, request: Request) -> Inbound | None:
        stream = getattr(request, "stream", None)
        if stream is not None and hasattr(stream, "request_max_size"):
            # Sanic drains what we leave unread up to this size, so the client
            # reads our 413; beyond it Sanic closes the connection instead.
            stream.request_max_size = _DRAIN_LIMIT_BYTES
        signature, timestamp, nonce = _signature_args(request)
        verify_signature(self.config.token, signature, timestamp, nonce)
        text = decode_body(await read_body(request, MAX_BODY_BYTES))
        if self._crypto is not None:
            if request.args.get("encrypt_type") != "aes":
                raise ForgedRequest("safe mode is on but the message is not encrypted")
            text = open_envelope(
                self._crypto,
                text,
                msg_signature=request.args.get("msg_signature", ""),
                timestamp=timestamp,
                nonce=nonce,
            )
        return parse_message(text)

    async def _store(self, inbound: Inbound) -> bool:
        """Stores the message (a retry finds it stored); False when the database failed."""
        try:
            stored = await self.intake.accept(
                key=inbound.dedupe_key,
                conversation_id=conversation_id(inbound.openid),
                position=position(inbound.create_time, _number(inbound.msg_id)),
                payload=clean_json(_payload_of(inbound)),
            )
        except SQLAlchemyError:
            logger.exception("WeChat message %s not stored", inbound.dedupe_key)
            return False
        if not stored:
            logger.info("WeChat message %s retried, already stored", inbound.dedupe_key)
        return True

    async def _handle(
        self, inbound: Inbound, key: str, on_new_message: OnNewMessage, output: OutputChannel
    ) -> None:
        sender_id = conversation_id(inbound.openid)
        if inbound.kind is InboundKind.UNSUPPORTED:
            await self._output.send_text_message(sender_id, BILINGUAL_REPLY)
            return
        if inbound.kind is InboundKind.SUBSCRIBE:
            text = SUBSCRIBE_MESSAGE
        else:
            stores = self._output.stores
            text = await run_quick(stores.local, self._chosen, inbound.openid, inbound.text or "")
        await on_new_message(
            UserMessage(
                clean_text(text),
                output,
                sender_id,
                input_channel=self.name(),
                message_id=key,
                metadata={"wechat": {"msg_type": inbound.msg_type, "msg_id": inbound.msg_id}},
            )
        )

    def _chosen(self, openid: str, text: str) -> str:
        """The payload of the button the customer picked by number, else their text."""
        payloads = self._output.stores.choices.take(openid)
        match = _CHOICE.fullmatch(text)
        if payloads and match and 1 <= int(match.group(1)) <= len(payloads):
            return payloads[int(match.group(1)) - 1]
        return text


def _payload_of(inbound: Inbound) -> dict[str, Any]:
    fields = dataclasses.asdict(inbound)
    fields["kind"] = inbound.kind.value
    return fields


def _inbound_of(payload: dict[str, Any]) -> Inbound:
    return Inbound(**{**payload, "kind": InboundKind(payload["kind"])})


def _number(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _signature_args(request: Request) -> tuple[str, str, str]:
    args = request.args
    return args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
