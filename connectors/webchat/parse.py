"""Reading what web chat clients send, and the history a page shows after a reload.

Pure functions of the socket.io event data and of the tracker's events, so
they are tested on recorded payloads (``tests/fixtures/webchat/``) without a
server. The event shapes are those of Rasa's socketio channel, which our page
and existing Rasa web-chat widgets (e.g. rasa-webchat) speak:
``session_request`` ``{"session_id": ...}`` and ``user_uttered``
``{"message": ..., "session_id": ..., "metadata"|"customData": {...}}``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from typing import Any

from bot.common.languages import EN, ZH_HANS, ZH_HANT, language_hint
from bot.common.text_only import text_only_reply

# Session ids are bearer secrets (whoever knows one joins the conversation):
# the server makes them from 128 random bits; a client may bring back one it
# was given. Anything else is replaced by a fresh id.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{1,8}){0,3}")
# Sequence numbers beyond this (JavaScript's largest exact integer) are ignored.
MAX_SEQ = 2**53 - 1
# A customer's message is a few lines; a pasted novel is refused politely.
MAX_TEXT_CHARS = 4000
# Rasa's metadata key, and the one rasa-webchat sends (its ``customData``).
_METADATA_KEYS = ("metadata", "customData")
# ``trigger_intent`` from the HTTP API leaves user events with this prefix.
_EXTERNAL_PREFIX = "EXTERNAL: "

TOO_LONG_REPLIES = {
    ZH_HANS: f"抱歉，消息太长了，请分成几条发送（每条最多 {MAX_TEXT_CHARS} 字）。",
    ZH_HANT: f"抱歉，訊息太長了，請分成幾則傳送（每則最多 {MAX_TEXT_CHARS} 字）。",
    EN: (
        "Sorry, that message is too long. "
        f"Please split it up (at most {MAX_TEXT_CHARS} characters)."
    ),
}
TOO_LONG_BILINGUAL = (
    f"抱歉，消息太长了（最多 {MAX_TEXT_CHARS} 字）/ "
    f"Sorry, that message is too long (at most {MAX_TEXT_CHARS} characters)."
)


class InboundKind(enum.Enum):
    """What the channel does with a ``user_uttered`` event."""

    TEXT = "text"  # passed to Rasa as the customer's words
    UNSUPPORTED = "unsupported"  # files, images, anything but text: a polite reply
    TOO_LONG = "too_long"  # over MAX_TEXT_CHARS: a polite reply


@dataclass(frozen=True)
class Inbound:
    """One ``user_uttered`` event that needs an answer.

    Attributes:
        kind: What to do with it.
        text: The customer's text, for ``TEXT``.
        session_id: The session the client names, when it is a valid one.
        message_id: The client's id for this message (retries carry the same).
        seq: The page's number of this message in its session (the order
            messages are handled in), when it sends one.
        language_code: The browser's language (``navigator.language``).
    """

    kind: InboundKind
    text: str | None = None
    session_id: str | None = None
    message_id: str | None = None
    language_code: str | None = None
    seq: int | None = None

    @property
    def metadata(self) -> dict[str, str]:
        """What Rasa keeps on the user event (``language_hint`` reads it)."""
        return {"language_code": self.language_code} if self.language_code else {}

    def reply(self) -> str:
        """The polite answer to a message Rasa is not given."""
        language = language_hint(self.metadata)
        if self.kind is not InboundKind.TOO_LONG:
            return text_only_reply(language)
        return TOO_LONG_BILINGUAL if language is None else TOO_LONG_REPLIES[language]


CHANNEL_PREFIX = "webchat:"


def conversation_id(session_id: str) -> str:
    """The conversation id (Rasa's sender id, the socket.io room) of a session."""
    return CHANNEL_PREFIX + session_id


def valid_session_id(value: object) -> str | None:
    """The session id when it has the shape the server hands out, else None."""
    if isinstance(value, str) and _SESSION_ID.fullmatch(value):
        return value
    return None


def session_id_of(data: object) -> str | None:
    """The session id a ``session_request`` or ``user_uttered`` event names.

    Rasa's own widgets send ``{"session_id": ...}``; some send the bare id.
    """
    if isinstance(data, dict):
        return valid_session_id(data.get("session_id"))
    return valid_session_id(data)


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    for key in _METADATA_KEYS:
        value = data.get(key)
        if isinstance(value, dict):
            return value
    return {}


def _language_code(metadata: dict[str, Any]) -> str | None:
    # Only the language is kept: the rest of a client's metadata is not ours
    # to store in the tracker.
    for key in ("language_code", "language"):
        value = metadata.get(key)
        if isinstance(value, str) and _LANGUAGE_CODE.fullmatch(value):
            return value
    return None


def parse_user_uttered(data: object) -> Inbound | None:
    """Reads a ``user_uttered`` event.

    Args:
        data: The event's data as python-socketio decoded it.

    Returns:
        The message, or None when there is nothing to answer (not an object,
        or empty text).
    """
    if not isinstance(data, dict):
        return None
    message_id = data.get("message_id")
    seq = data.get("seq")
    fields = Inbound(
        InboundKind.TEXT,
        session_id=session_id_of(data),
        message_id=message_id
        if isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id)
        else None,
        language_code=_language_code(_metadata(data)),
        seq=seq if type(seq) is int and 0 <= seq <= MAX_SEQ else None,
    )
    text = data.get("message")
    if text is None:
        if any(key in data for key in ("attachment", "file", "files", "image")):
            return replace(fields, kind=InboundKind.UNSUPPORTED)
        return None
    if not isinstance(text, str):
        return replace(fields, kind=InboundKind.UNSUPPORTED)
    if not text.strip():
        return None
    if len(text) > MAX_TEXT_CHARS:
        return replace(fields, kind=InboundKind.TOO_LONG)
    return replace(fields, text=text)


@dataclass(frozen=True)
class Button:
    """A button as the page shows it."""

    title: str
    payload: str


@dataclass(frozen=True)
class Turn:
    """One bubble of the history: who said it, the text, the bot's buttons."""

    role: str  # "user" or "bot"
    text: str
    buttons: tuple[Button, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON the page reads."""
        turn: dict[str, Any] = {"role": self.role, "text": self.text}
        if self.buttons:
            turn["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        return turn


def _buttons(event: dict[str, Any]) -> tuple[Button, ...]:
    data = event.get("data") or {}
    raw = data.get("buttons") or data.get("quick_replies") or []
    return tuple(
        Button(str(b["title"]), str(b["payload"]))
        for b in raw
        if isinstance(b, dict) and b.get("title") is not None and b.get("payload") is not None
    )


def history_turns(events: list[dict[str, Any]], *, limit: int = 200) -> list[Turn]:
    """The text turns of a conversation, as the page showed them live.

    Bot texts are split on blank lines like the output channel splits them,
    with the buttons on the last part. A button's payload (``/deny``) that the
    customer sent by clicking is shown as the button's title, as it was on
    the page.

    Args:
        events: The tracker's events as JSON (``DialogueStateTracker.events``
            ``as_dict()``, or ``GET /conversations/<id>/tracker``).
        limit: How many of the latest turns to return.

    Returns:
        The turns, oldest first.
    """
    turns: list[Turn] = []
    offered: tuple[Button, ...] = ()
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind == "bot":
            buttons = _buttons(event)
            offered = buttons or offered
            if not isinstance(text, str) or not text.strip():
                if buttons:
                    turns.append(Turn("bot", "", buttons))
                continue
            parts = [part for part in text.strip().split("\n\n") if part.strip()]
            turns += [Turn("bot", part) for part in parts[:-1]]
            turns.append(Turn("bot", parts[-1], buttons))
        elif kind == "user":
            if not isinstance(text, str) or not text or text.startswith(_EXTERNAL_PREFIX):
                continue
            clicked = next((b.title for b in offered if b.payload == text), None)
            turns.append(Turn("user", clicked or text))
    return turns[-limit:]
