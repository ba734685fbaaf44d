"""Replies of a message counted as they leave, so a message processed again never repeats them.

A process killed after Rasa sent a reply but before it saved the turn leaves
the message pending, and the turn is run again after the restart. Each reply
that left is counted in the message's row (``sent``) right after its send
returned; when the message is processed again, that many first replies of
the new run are not sent (the customer has them) and the rest are. Only a
kill between a send and its count, a millisecond, can still repeat a reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel


class CountedOutput(OutputChannel):
    """Wraps a channel's output for one message: skips ``already_sent`` replies, counts the rest.

    Args:
        output: The platform's output channel.
        already_sent: Replies an earlier run of this message sent.
        count_sent: Records one more reply sent (awaited after each send).
    """

    def __init__(
        self,
        output: OutputChannel,
        *,
        already_sent: int,
        count_sent: Callable[[], Awaitable[None]],
    ) -> None:
        self._output = output
        self._skip = already_sent
        self._count_sent = count_sent

    def name(self) -> str:
        """The wrapped output's name (Rasa records it)."""
        return str(self._output.name())

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._output, attribute)

    # Calls other than Rasa's replies (tests, custom code) go straight through.

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._output.send_text_message(recipient_id, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._output.send_image_url(recipient_id, image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self._output.send_attachment(recipient_id, attachment, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._output.send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._output.send_quick_replies(recipient_id, text, quick_replies, **kwargs)

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._output.send_elements(recipient_id, elements, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._output.send_custom_json(recipient_id, json_message, **kwargs)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Sends one of Rasa's replies, unless an earlier run already did."""
        if self._skip > 0:
            self._skip -= 1
            return
        await self._output.send_response(recipient_id, message)
        await self._count_sent()
