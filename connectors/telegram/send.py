"""Sending to Telegram: one chat at a time, in order, waiting out flood control.

Bot replies and agents' replies to a customer both leave through
:class:`TelegramSender`. Calls to one chat hold that chat's lock, so when
the Bot API answers 429 with ``retry_after`` the sender waits (a bounded
number of times) and the replies queued behind it keep their order. Chats
do not wait for each other.

Only 429 is retried: Telegram did not deliver the message then. A timeout
or a network error may have delivered it, and a retry could send it twice.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from connectors.background import BackgroundTasks
from connectors.telegram.errors import TelegramSendError, UnknownRecipient

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 4
# Telegram asks bots to show a chat action only when an answer takes a
# noticeable time. A quicker answer goes without one: each is another Bot API
# call, counted against the bot's limits and waited on by the reply behind it.
DEFAULT_TYPING_AFTER_S = 1.0
DEFAULT_MAX_RETRY_AFTER_S = 60.0
# sendMessage takes 1-4096 characters, counted as UTF-16 code units.
MAX_TEXT_UTF16 = 4096
# callback_data takes 1-64 bytes.
MAX_CALLBACK_DATA_BYTES = 64
# Buttons share one row when they are few and short, else one per row.
_ONE_ROW_MAX_BUTTONS = 3
_ONE_ROW_MAX_TITLE_CHARS = 30
_CONVERSATION_PREFIX = "telegram:"


def chat_id_of(recipient_id: str) -> int:
    """The chat id in a conversation id (``telegram:<chat_id>`` or a bare id).

    Raises:
        UnknownRecipient: Not a Telegram chat.
    """
    raw = str(recipient_id).removeprefix(_CONVERSATION_PREFIX)
    try:
        return int(raw)
    except ValueError:
        raise UnknownRecipient(f"not a Telegram conversation: {recipient_id!r}") from None


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    """Cuts a text into messages Telegram accepts, at a line break where one is near."""
    parts: list[str] = []
    rest = text
    while _utf16_length(rest) > limit:
        cut = _chars_fitting(rest, limit)
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    parts.append(rest)
    return parts


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _chars_fitting(text: str, limit: int) -> int:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def inline_keyboard(buttons: Sequence[dict[str, Any]]) -> InlineKeyboardMarkup:
    """Rasa buttons as an inline keyboard; a press sends back the payload."""
    keys = [
        InlineKeyboardButton(str(button["title"]), callback_data=_callback_data(button))
        for button in buttons
    ]
    one_row = len(keys) <= _ONE_ROW_MAX_BUTTONS and (
        sum(len(key.text) for key in keys) <= _ONE_ROW_MAX_TITLE_CHARS
    )
    return InlineKeyboardMarkup([keys] if one_row else [[key] for key in keys])


def _callback_data(button: dict[str, Any]) -> str:
    payload = str(button.get("payload") or button["title"])
    if len(payload.encode()) <= MAX_CALLBACK_DATA_BYTES:
        return payload
    # Too long for Telegram: the title goes back instead, and NLU reads it.
    logger.warning("button payload over 64 bytes, sending its title back: %r", payload)
    return str(button["title"]).encode()[:MAX_CALLBACK_DATA_BYTES].decode(errors="ignore")


def _retry_after_s(error: RetryAfter) -> float:
    # An int today, a timedelta in python-telegram-bot's next major version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = error.retry_after
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


class _ChatLocks:
    """One lock per chat, forgotten when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class TelegramSender:
    """Bot API calls with ordering per chat and bounded waits on 429.

    Args:
        bot: The bot, initialised once at start-up.
        max_attempts: Tries per call, the first included.
        max_retry_after_s: Longest ``retry_after`` we wait out; a longer one fails.
    """

    def __init__(
        self,
        bot: Bot,
        background: BackgroundTasks,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        typing_after_s: float = DEFAULT_TYPING_AFTER_S,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._bot = bot
        self._background = background
        self._max_attempts = max_attempts
        self._max_retry_after_s = max_retry_after_s
        self._typing_after_s = typing_after_s
        self._locks = _ChatLocks()
        self._typing_timers: dict[int, set[asyncio.TimerHandle]] = {}

    async def send_text(
        self, chat_id: int, text: str, *, buttons: Sequence[dict[str, Any]] | None = None
    ) -> list[Message]:
        """Sends a text (split if long), with buttons under its last part.

        Raises:
            TelegramSendError: Telegram refused it, or kept answering 429.
        """
        if not text.strip():
            logger.warning("not sending an empty message to %s", chat_id)
            return []
        self._cancel_typing(chat_id)
        parts = split_text(text)
        markup = inline_keyboard(buttons) if buttons else None
        sent: list[Message] = []
        async with self._locks.hold(chat_id):
            for index, part in enumerate(parts):
                last = index == len(parts) - 1

                async def send(part: str = part, last: bool = last) -> Message:
                    return await self._bot.send_message(
                        chat_id=chat_id, text=part, reply_markup=markup if last else None
                    )

                sent.append(await self._with_retries(send, what=f"sendMessage to {chat_id}"))
        return sent

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stops the spinner on the pressed button; failures are only logged."""
        try:
            await self._with_retries(
                lambda: self._bot.answer_callback_query(callback_query_id),
                what=f"answerCallbackQuery {callback_query_id}",
            )
        except TelegramSendError:
            logger.exception("could not answer callback query %s", callback_query_id)

    @contextmanager
    def typing_if_slow(self, chat_id: int) -> Iterator[None]:
        """Shows "typing…" once the block has run ``typing_after_s`` without a reply to the chat.

        The first reply to the chat, or the end of the block, calls it off.
        """
        timer = asyncio.get_running_loop().call_later(
            self._typing_after_s, self._start_typing, chat_id
        )
        self._typing_timers.setdefault(chat_id, set()).add(timer)
        try:
            yield
        finally:
            timer.cancel()
            timers = self._typing_timers.get(chat_id, set())
            timers.discard(timer)
            if not timers:
                self._typing_timers.pop(chat_id, None)

    def _start_typing(self, chat_id: int) -> None:
        self._cancel_typing(chat_id)
        self._background.start(self.show_typing(chat_id), name=f"telegram-typing-{chat_id}")

    def _cancel_typing(self, chat_id: int) -> None:
        for timer in self._typing_timers.pop(chat_id, ()):
            timer.cancel()

    async def show_typing(self, chat_id: int) -> None:
        """Shows "typing…" while Rasa thinks; one try, failures only logged.

        Holds the chat's lock like a send, so a reply queued behind it never
        arrives before the indicator (which would then linger after it).
        """
        async with self._locks.hold(chat_id):
            try:
                await self._bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
            except TelegramError as error:
                logger.warning("sendChatAction to %s failed: %s", chat_id, error)

    async def _with_retries(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await call()
            except RetryAfter as error:
                wait_s = _retry_after_s(error)
                if attempt == self._max_attempts or wait_s > self._max_retry_after_s:
                    raise TelegramSendError(
                        f"{what}: still rate-limited after {attempt} attempts"
                        f" (retry after {wait_s:.0f} s)"
                    ) from error
                logger.warning("%s: 429, retrying in %.1f s (attempt %d)", what, wait_s, attempt)
                await asyncio.sleep(wait_s)
            except TelegramError as error:
                raise TelegramSendError(f"{what}: {error}") from error
        raise AssertionError("unreachable")  # the loop returns or raises
