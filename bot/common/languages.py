"""The languages the assistant speaks, and telling which one a customer writes.

Language tags are BCP 47 script subtags: ``zh-Hans`` (Simplified Chinese, the
default), ``zh-Hant`` (Traditional Chinese) and ``en``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opencc import OpenCC

ZH_HANS = "zh-Hans"
ZH_HANT = "zh-Hant"
EN = "en"
LANGUAGES = (ZH_HANS, ZH_HANT, EN)
DEFAULT_LANGUAGE = ZH_HANS

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A lone "ok" or "yes" from someone writing Chinese is not a switch to English.
_MIN_ENGLISH_LETTERS_TO_SWITCH = 5
# Regions and scripts whose Chinese is written in Traditional characters.
_HANT_TAGS = ("hant", "tw", "hk", "mo")


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


def from_language_code(code: str | None) -> str | None:
    """Maps a platform's language code (``zh-TW``, ``en-GB`` …) onto ours.

    Returns None for no code; any code that is not Chinese counts as English,
    the one other language the assistant speaks.
    """
    code = (code or "").lower()
    if not code:
        return None
    if code.startswith("zh"):
        return ZH_HANT if any(tag in code for tag in _HANT_TAGS) else ZH_HANS
    return EN


def language_hint(metadata: dict[str, Any] | None) -> str | None:
    """Our language for the ``language_code`` a connector put into a message's metadata."""
    return from_language_code(str((metadata or {}).get("language_code") or ""))
