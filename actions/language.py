"""The customer's language, read from their own words at every turn."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opencc import OpenCC
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.labels import EN, ZH_HANS, ZH_HANT

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A lone "ok" or "yes" from someone writing Chinese is not a switch to English.
_MIN_ENGLISH_LETTERS_TO_SWITCH = 5


@lru_cache(maxsize=1)
def _converters() -> tuple[OpenCC, OpenCC]:
    return OpenCC("t2s"), OpenCC("s2t")


def _script_of(han_chars: str, previous: str | None) -> str:
    """Tells Traditional from Simplified by the characters unique to each."""
    to_simplified, to_traditional = _converters()
    traditional = sum(1 for c in han_chars if to_simplified.convert(c) != c)
    simplified = sum(1 for c in han_chars if to_traditional.convert(c) != c)
    if traditional > simplified:
        return ZH_HANT
    if simplified > traditional:
        return ZH_HANS
    # Only characters shared by both scripts: keep the customer's script.
    return previous if previous in (ZH_HANS, ZH_HANT) else ZH_HANS


def detect_language(text: str | None, previous: str | None = None) -> str | None:
    """Returns zh-Hans, zh-Hant or en for a message, or None to keep ``previous``.

    Args:
        text: The customer's message.
        previous: The language the conversation is in so far.

    Returns:
        The language, or None when the message says nothing about it (an
        order number, an emoji, a button payload).
    """
    if not text or text.startswith("/"):
        return None
    han_chars = "".join(_HAN.findall(text))
    if han_chars:
        return _script_of(han_chars, previous)
    letters = sum(len(word) for word in _LATIN_WORD.findall(text))
    if letters == 0:
        return None
    if previous in (ZH_HANS, ZH_HANT) and letters < _MIN_ENGLISH_LETTERS_TO_SWITCH:
        return None
    return EN


def language_hint(metadata: dict[str, Any] | None) -> str | None:
    """Maps a platform's language code (e.g. Telegram's) onto ours."""
    code = str((metadata or {}).get("language_code") or "").lower()
    if not code:
        return None
    if code.startswith("zh"):
        hant = any(tag in code for tag in ("hant", "tw", "hk", "mo"))
        return ZH_HANT if hant else ZH_HANS
    return EN


class ActionDetectLanguage(Action):
    """Custom slot mapping of ``language``: runs after every customer message."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        previous = tracker.get_slot("language")
        message = tracker.latest_message or {}
        detected = detect_language(message.get("text"), previous)
        if detected is None and previous is None:
            detected = language_hint(message.get("metadata"))
        if detected is None or detected == previous:
            return []
        return [SlotSet("language", detected)]
