"""Telegram's output channel, and its send call for the outbound route.

Bot replies and agents' replies (``POST /webhooks/telegram/outbound``, see
:mod:`connectors.outbound`) leave through the same :class:`TelegramOutput`,
which hands them to :class:`~connectors.telegram.send.TelegramSender`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel

from connectors.outbound import MalformedOutbound, Outbound, OutboundService, SendRefused
from connectors.telegram.errors import TelegramConnectorError, UnknownRecipient
from connectors.telegram.send import TelegramSender, chat_id_of

logger = logging.getLogger(__name__)


class TelegramOutput(OutputChannel):
    """Sends bot and agent replies to a Telegram chat, in order, through the Bot API."""

    def __init__(self, sender: TelegramSender) -> None:
        self._sender = sender

    @classmethod
    def name(cls) -> str:
        """The channel's name, as Rasa records it."""
        return "telegram"

    async def deliver(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        """Sends a text, with buttons as an inline keyboard; raises when it fails.

        Raises:
            TelegramSendError: Telegram refused it, or kept answering 429.
        """
        await self._sender.send_text(chat_id_of(recipient_id), text, buttons=buttons)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends a text (Rasa's interface: failures are logged, not raised)."""
        await self._deliver_logged(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Sends a text with an inline keyboard whose buttons send back their payload."""
        await self._deliver_logged(recipient_id, text, buttons)

    async def _deliver_logged(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        # Raising inside Rasa's action loop would lose the whole turn from the
        # tracker; the reply is lost either way, the conversation must not be.
        try:
            await self.deliver(recipient_id, text, buttons)
        except TelegramConnectorError:
            logger.exception("reply to %s not delivered", recipient_id)


class TelegramOutbound(OutboundService):
    """``POST /webhooks/telegram/outbound``: sends through :class:`TelegramOutput`."""

    output: TelegramOutput

    async def send_reply(self, message: Outbound) -> None:
        """Sends the text and its buttons; Telegram's refusal becomes a 502.

        Raises:
            MalformedOutbound: The recipient is not a Telegram chat.
            SendRefused: Telegram refused the message, or kept answering 429.
        """
        try:
            await self.output.deliver(message.recipient_id, message.text or "", message.buttons)
        except UnknownRecipient as error:
            raise MalformedOutbound(str(error)) from error
        except TelegramConnectorError as error:
            raise SendRefused(str(error)) from error
