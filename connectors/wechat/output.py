"""WeChat's output channel, and its send call for the outbound route.

Bot replies and agents' replies (``POST /webhooks/wechat/outbound``, see
:mod:`connectors.outbound`) leave through the same :class:`WeChatOutput`, by
the customer-service API (``message/custom/send``). WeChat's refusals (45015
once the 48-hour window closed) are logged and recorded in the send-failure
log; the outbound route answers them 502.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.settings import Settings
from connectors.database import run_quick
from connectors.outbound import Outbound, OutboundService, SendRefused
from connectors.wechat.client import SharedTokenClient
from connectors.wechat.config import WeChatConfig
from connectors.wechat.parse import CHANNEL, openid_of
from connectors.wechat.send import CustomServiceSender, SendResult, split_text
from connectors.wechat.store import SendFailure, WeChatStores, stores_from_settings

logger = logging.getLogger(__name__)


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


class WeChatOutbound(OutboundService):
    """``POST /webhooks/wechat/outbound``: sends through :class:`WeChatOutput`."""

    output: WeChatOutput

    async def send_reply(self, message: Outbound) -> None:
        """Sends the text, buttons as numbered lines; a refusal becomes a 502.

        Raises:
            SendRefused: WeChat refused a piece (45015: the 48-hour window closed).
        """
        result = await self.output.deliver_text(
            message.recipient_id, message.text or "", message.buttons
        )
        if not result.ok:
            raise SendRefused(f"WeChat errcode {result.errcode}: {result.errmsg}")


def _text_of(message: dict[str, Any]) -> str:
    body = message.get(message.get("msgtype", ""), {})
    if isinstance(body, dict) and isinstance(body.get("content"), str):
        return str(body["content"])
    return str(message)
