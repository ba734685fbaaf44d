"""Rasa's REST channel, with the customer's text cleaned where it comes in.

The same routes as Rasa's own ``rest`` channel (``/webhooks/rest/webhook``,
same body, same answers); ``credentials.yml`` names this class instead. The
only change: the sender, text and input channel go through
:mod:`bot.common.clean_text`, so a NUL or a lone surrogate never reaches the
tracker store or the handoff service. Rasa reads them through the three
small ``_extract_*`` methods overridden here (it reads no metadata).
"""

from __future__ import annotations

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from bot.common.clean_text import clean_text


class CleanRestInput(RestInput):
    """``POST /webhooks/rest/webhook`` ``{"sender", "message", "input_channel"}``, cleaned."""

    async def _extract_sender(self, req: Request) -> str | None:
        sender = await super()._extract_sender(req)
        return clean_text(sender) if isinstance(sender, str) else sender

    def _extract_message(self, req: Request) -> str | None:
        text = super()._extract_message(req)
        return clean_text(text) if isinstance(text, str) else text

    def _extract_input_channel(self, req: Request) -> str:
        return clean_text(str(super()._extract_input_channel(req)))
