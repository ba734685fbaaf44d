"""Telegram webhook updates turned into what the assistant should do with them.

:func:`parse_update` is a pure function over the decoded JSON body: it uses
python-telegram-bot's ``Update.de_json`` and decides, per kind of update,
whether the customer's words go to Rasa, whether they get a polite "text
only, please" reply, or whether the update is acknowledged silently.

What happens to each kind of update:

================================  ===========================================
private-chat text                  to Rasa as typed (a leading ``/`` removed,
                                   so typed text never injects an intent)
``/start`` (with or without a      ``/greet`` to Rasa: the welcome
deep-link parameter)
inline-keyboard button press       its ``callback_data`` (our button payload)
(``callback_query``)               to Rasa; the query is answered
private-chat sticker, photo,       polite reply in the customer's language,
voice, video, document, location,  nothing reaches Rasa
contact, poll …
edited messages                    silent: the original was answered already
channel posts (also edited)        silent: a channel is not a customer
group and supergroup messages      silent: the assistant serves private chats
service messages, inline queries,  silent
member updates, reactions …
================================  ===========================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from telegram import Bot, Chat, Message, Update

from connectors.telegram.errors import MalformedUpdate

# Telegram's own first message in a chat; we answer it with our welcome.
START_COMMAND = "start"
WELCOME_INTENT = "/greet"
# "/start", "/start@shop_bot", "/start deep-link-parameter"
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s|$)")


class InboundKind(str, Enum):
    """What the customer sent."""

    TEXT = "text"
    START = "start"
    BUTTON = "button"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Inbound:
    """One update the assistant acts on.

    Attributes:
        update_id: Telegram's id of the update, unique per bot (de-duplication).
        chat_id: The private chat to answer in.
        kind: What the customer sent.
        text: What goes to Rasa; None for unsupported content.
        language_code: The customer's Telegram language (IETF tag), if known.
        callback_query_id: The button press to answer, for ``BUTTON``.
        content_type: The unsupported content (``sticker``, ``photo`` …), for logs.
    """

    update_id: int
    chat_id: int
    kind: InboundKind
    text: str | None = None
    language_code: str | None = None
    callback_query_id: str | None = None
    content_type: str | None = field(default=None)

    @property
    def conversation_id(self) -> str:
        """The conversation id Rasa knows this chat by."""
        return conversation_id(self.chat_id)

    @property
    def metadata(self) -> dict[str, Any]:
        """``UserMessage`` metadata; ``language_code`` seeds the ``language`` slot."""
        return {"language_code": self.language_code} if self.language_code else {}


def conversation_id(chat_id: int) -> str:
    """The conversation id Rasa knows a chat by: ``telegram:<chat id>``."""
    return f"telegram:{chat_id}"


def parse_update(payload: Any, bot: Bot | None) -> Inbound | None:
    """Decides what to do with one webhook body.

    Args:
        payload: The decoded JSON body of the webhook request.
        bot: The bot the update was sent to (python-telegram-bot links the
            parsed objects to it); None is fine for parsing alone.

    Returns:
        The update to act on, or None when it is acknowledged silently.

    Raises:
        MalformedUpdate: The body is not a Telegram update.
    """
    if not isinstance(payload, Mapping):
        raise MalformedUpdate("an update is a JSON object")
    try:
        update = Update.de_json(dict(payload), bot)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedUpdate(f"not a Telegram update: {error}") from error
    if not isinstance(update.update_id, int) or isinstance(update.update_id, bool):
        raise MalformedUpdate("update_id must be an integer")
    if update.callback_query is not None:
        return _button(update)
    if update.message is not None:
        return _message(update.update_id, update.message)
    # edited_message, channel_post, inline_query, my_chat_member, …
    return None


def _private_chat_id(chat: Chat | None) -> int | None:
    if chat is None or chat.type != Chat.PRIVATE:
        return None
    if not isinstance(chat.id, int) or isinstance(chat.id, bool):
        raise MalformedUpdate("chat.id must be an integer")
    return chat.id


def _button(update: Update) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    # Buttons of inline-mode messages carry no chat: not ours to answer.
    chat_id = _private_chat_id(query.message.chat if query.message is not None else None)
    if chat_id is None or not query.data:
        return None
    return Inbound(
        update_id=update.update_id,
        chat_id=chat_id,
        kind=InboundKind.BUTTON,
        text=query.data,
        language_code=query.from_user.language_code if query.from_user else None,
        callback_query_id=query.id,
    )


def _message(update_id: int, message: Message) -> Inbound | None:
    chat_id = _private_chat_id(message.chat)
    if chat_id is None:
        return None
    language_code = message.from_user.language_code if message.from_user else None
    if message.text is not None:
        is_start = _command(message) == START_COMMAND
        return Inbound(
            update_id=update_id,
            chat_id=chat_id,
            kind=InboundKind.START if is_start else InboundKind.TEXT,
            text=WELCOME_INTENT if is_start else _as_customer_text(message.text),
            language_code=language_code,
        )
    attachment = message.effective_attachment
    if attachment is None:
        # A service message (pinned message, shared users, …): nothing to answer.
        return None
    return Inbound(
        update_id=update_id,
        chat_id=chat_id,
        kind=InboundKind.UNSUPPORTED,
        language_code=language_code,
        content_type=_content_type(attachment),
    )


def _command(message: Message) -> str | None:
    """The bot command the message starts with, without ``/`` and ``@botname``."""
    # By the text, not the entities: Telegram's own sample updates omit them.
    match = _COMMAND.match(message.text or "")
    return match.group(1).lower() if match else None


def _as_customer_text(text: str) -> str:
    # Rasa reads "/intent{...}" as an intent with entities; a customer must
    # not be able to set intents or slots by typing, so the slash goes.
    stripped = text.lstrip()
    if stripped.startswith("/"):
        return stripped.lstrip("/").lstrip()
    return text


def _content_type(attachment: object) -> str:
    if isinstance(attachment, tuple | list):
        return "photo"
    return type(attachment).__name__.lower()
