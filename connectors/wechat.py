"""WeChat Official Account channel: ``/webhooks/wechat/webhook``.

WeChat pushes each message as signed XML (encrypted in safe mode) and drops
the request after 5 s, retrying three times. So the webhook checks the
signature, parses safely, claims the ``MsgId`` (events: sender, time and
event), answers ``success`` at once and lets Rasa work in the background; the
bot's replies go out through the customer-service API
(``message/custom/send``), the same path agents' replies take: the handoff
service posts them to ``/webhooks/wechat/outbound`` (:mod:`connectors.outbound`),
and WeChat's refusals (45015 once the 48-hour window closed) are recorded in
the send-failure log and answered 502.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto

from bot import settings as bot_settings
from bot.settings import Settings
from connectors.background import BackgroundTasks
from connectors.database import run_quick
from connectors.dedupe import SeenMessages, seen_messages_from_settings
from connectors.outbound import (
    Outbound,
    SendRefused,
    add_outbound_route,
    feed,
    replayed_message,
)
from connectors.wechat_client import DEFAULT_API_BASE_URL, SharedTokenClient
from connectors.wechat_errors import (
    BodyTooLarge,
    ForgedRequest,
    WeChatConfigError,
    WeChatRequestError,
)
from connectors.wechat_parse import (
    MAX_BODY_BYTES,
    Inbound,
    InboundKind,
    decode_body,
    open_envelope,
    parse_message,
    verify_signature,
)
from connectors.wechat_send import CustomServiceSender, SendResult, split_text
from connectors.wechat_store import SendFailure, WeChatStores, stores_from_settings

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
UNSUPPORTED_REPLY = "抱歉，我目前只能看懂文字消息 / Sorry, I can only read text messages for now."
# A new follower: Rasa greets them in its own words.
SUBSCRIBE_MESSAGE = "/greet"
_DRAIN_LIMIT_BYTES = 1024 * 1024

_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")  # WeChat's rule for the Token
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")  # and for the EncodingAESKey
_CHOICE = re.compile(r"\s*(\d{1,2})\s*[.。、]?\s*")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def conversation_id(openid: str) -> str:
    """The conversation id of a WeChat customer: ``wechat:<openid>``."""
    return f"{CHANNEL}:{openid}"


def openid_of(recipient_id: str) -> str:
    """The openid in a conversation id (a bare openid is accepted too)."""
    return recipient_id.removeprefix(f"{CHANNEL}:")


@dataclass(frozen=True)
class WeChatConfig:
    """The Official Account's settings, checked before anything starts.

    Attributes:
        token: The Token set in the WeChat admin console (3-32 letters/digits).
        app_id: The AppID.
        app_secret: The AppSecret.
        aes_key: The EncodingAESKey (43 letters/digits) for safe mode, or None.
        api_base_url: WeChat's API, or a proxy in front of it.
    """

    token: str
    app_id: str
    app_secret: str
    aes_key: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL

    def __post_init__(self) -> None:
        problems = []
        if not _TOKEN.fullmatch(self.token or ""):
            problems.append("WECHAT_TOKEN must be 3-32 letters or digits")
        if not (self.app_id or "").strip() or any(c.isspace() for c in self.app_id):
            problems.append("WECHAT_APP_ID is missing")
        if not (self.app_secret or "").strip():
            problems.append("WECHAT_APP_SECRET is missing")
        if self.aes_key is not None and not _AES_KEY.fullmatch(self.aes_key):
            problems.append("WECHAT_AES_KEY must be 43 letters or digits")
        url = urlsplit(self.api_base_url or "")
        if url.scheme not in ("http", "https") or not url.netloc:
            problems.append("WECHAT_API_BASE_URL must be an http(s) URL")
        if problems:
            raise WeChatConfigError("; ".join(problems))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WeChatConfig:
        """Reads the ``WECHAT_*`` settings (for processes outside Rasa, e.g. handoff)."""
        return cls(
            token=environ.get("WECHAT_TOKEN", ""),
            app_id=environ.get("WECHAT_APP_ID", ""),
            app_secret=environ.get("WECHAT_APP_SECRET", ""),
            aes_key=environ.get("WECHAT_AES_KEY") or None,
            api_base_url=environ.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL,
        )


class WeChatOutput(OutputChannel):
    """Sends through the customer-service API; bot and agents alike.

    Refused sends (45015: the customer has not written for 48 hours; any
    other error) are logged and recorded in the send-failure log, never
    retried beyond the client's short retries of "system busy".
    """

    def __init__(self, sender: CustomServiceSender, stores: WeChatStores) -> None:
        self._sender = sender
        self.stores = stores

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_config(cls, config: WeChatConfig, settings: Settings) -> WeChatOutput:
        """An output channel with its own client and the shared stores."""
        stores = stores_from_settings(settings)
        client = SharedTokenClient(
            config.app_id,
            config.app_secret,
            api_base_url=config.api_base_url,
            session=stores.session,
            token_lock=stores.token_lock,
        )
        return cls(CustomServiceSender(client, local_store=stores.local), stores)

    async def close(self) -> None:
        """Closes the connections to WeChat's API."""
        await self._sender.close()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, in pieces when it is over WeChat's length limit."""
        await self.deliver_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Sends the buttons as numbered lines; the customer answers with the number."""
        await self.deliver_text(recipient_id, text, buttons)

    async def deliver_text(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> SendResult:
        """Sends a text (in pieces if long), buttons as numbered lines; stops at a refusal.

        Returns:
            Success, or the first refusal (already logged and recorded).
        """
        openid = openid_of(recipient_id)
        lines, payloads = [], []
        for button in buttons or []:
            title = str(button.get("title") or button.get("payload") or "")
            if button.get("payload"):
                payloads.append(str(button["payload"]))
                lines.append(f"{len(payloads)}. {title}")
            elif button.get("url"):
                lines.append(f"{title}: {button['url']}")
        if payloads:
            await run_quick(self.stores.local, self.stores.choices.remember, openid, payloads)
        full = "\n".join([text, *lines]) if text else "\n".join(lines)
        for piece in split_text(full):
            result = await self.deliver(openid, {"msgtype": "text", "text": {"content": piece}})
            if not result.ok:
                return result
        return SendResult(ok=True)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """WeChat sends images by uploaded media id only; the link goes as text."""
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """Sends the attachment's link or text."""
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Sends a ready customer-service message (``{"msgtype": "news", …}``)."""
        if "msgtype" not in json_message:
            logger.warning("custom message without msgtype not sent to WeChat: %s", json_message)
            return
        await self.deliver(openid_of(recipient_id), json_message)

    async def deliver(self, openid: str, message: dict[str, Any]) -> SendResult:
        """Sends one customer-service message; a refusal is logged and recorded.

        Args:
            openid: The customer.
            message: The message without ``touser`` (``msgtype`` and its body).

        Returns:
            Whether WeChat accepted it, with its error code if not.
        """
        result = await self._sender.send({"touser": openid, **message})
        if not result.ok:
            logger.warning(
                "WeChat refused a message to %s: errcode=%s errmsg=%s",
                openid,
                result.errcode,
                result.errmsg,
            )
            failure = SendFailure(
                channel=CHANNEL,
                recipient=openid,
                errcode=result.errcode,
                errmsg=result.errmsg,
                text=_text_of(message),
                failed_at=time.time(),
            )
            try:
                await asyncio.to_thread(self.stores.failures.record, failure)
            except Exception:
                logger.exception("could not record the failed send to %s", openid)
        return result


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
    ) -> None:
        self.config = WeChatConfig(token, app_id, app_secret, aes_key, api_base_url)
        settings = settings or bot_settings.load()
        self._crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self._seen: SeenMessages = seen_messages_from_settings(settings)
        self._output = WeChatOutput.from_config(self.config, settings)
        self.background = BackgroundTasks()

    def get_output_channel(self) -> WeChatOutput:
        return self._output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The routes: ``GET /webhook`` (URL check), ``POST /webhook`` (messages)."""
        webhook = Blueprint("wechat_webhook", __name__)

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
            except WeChatRequestError as error:
                logger.warning("WeChat push refused (%s): %s", error.status, error)
                return response.text(type(error).__name__, status=error.status)
            if inbound is not None and await self._claim(inbound):
                self.background.start(
                    self._handle(inbound, on_new_message), name=inbound.dedupe_key
                )
            return response.text("success")

        def replay(message: Outbound) -> None:
            self.background.start(
                feed(on_new_message, replayed_message(message, self._output, CHANNEL)),
                name=f"wechat-replay-{message.recipient_id}",
            )

        add_outbound_route(webhook, channel=CHANNEL, send=self._send_outbound, replay=replay)
        return webhook

    async def _send_outbound(self, message: Outbound) -> None:
        result = await self._output.deliver_text(
            message.recipient_id, message.text or "", message.buttons
        )
        if not result.ok:
            raise SendRefused(f"WeChat errcode {result.errcode}: {result.errmsg}")

    async def _accept(self, request: Request) -> Inbound | None:
        stream = getattr(request, "stream", None)
        if stream is not None and hasattr(stream, "request_max_size"):
            # Sanic drains what we leave unread up to this size, so the client
            # reads our 413; beyond it Sanic closes the connection instead.
            stream.request_max_size = _DRAIN_LIMIT_BYTES
        signature, timestamp, nonce = _signature_args(request)
        verify_signature(self.config.token, signature, timestamp, nonce)
        text = decode_body(await _read_body(request))
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

    async def _claim(self, inbound: Inbound) -> bool:
        try:
            return await self._seen.claim(inbound.dedupe_key)
        except Exception:
            # Answering twice beats not answering: we ack, so WeChat won't retry.
            logger.exception("dedupe store unavailable; handling %s anyway", inbound.dedupe_key)
            return True

    async def _handle(self, inbound: Inbound, on_new_message: OnNewMessage) -> None:
        sender_id = conversation_id(inbound.openid)
        if inbound.kind is InboundKind.UNSUPPORTED:
            await self._output.send_text_message(sender_id, UNSUPPORTED_REPLY)
            return
        if inbound.kind is InboundKind.SUBSCRIBE:
            text = SUBSCRIBE_MESSAGE
        else:
            stores = self._output.stores
            text = await run_quick(stores.local, self._chosen, inbound.openid, inbound.text or "")
        await on_new_message(
            UserMessage(
                text,
                self._output,
                sender_id,
                input_channel=self.name(),
                message_id=inbound.msg_id,
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


def _signature_args(request: Request) -> tuple[str, str, str]:
    args = request.args
    return args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"Content-Length {declared}")
    if request.body or request.stream is None:  # a server that read the body already
        return bytes(request.body or b"")
    chunks: list[bytes] = []
    size = 0
    try:
        while (chunk := await request.stream.read()) is not None:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge(f"body over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    except PayloadTooLarge as error:
        raise BodyTooLarge(str(error)) from error
    return b"".join(chunks)


def _text_of(message: dict[str, Any]) -> str:
    body = message.get(message.get("msgtype", ""), {})
    if isinstance(body, dict) and isinstance(body.get("content"), str):
        return str(body["content"])
    return str(message)
