"""Normalised wording of customer messages, and when two wordings are near-duplicates.

Normalising: Traditional → Simplified Chinese (OpenCC, when installed),
lowercase, full-width → half-width, punctuation and symbols dropped, filler
particles (亲, 呀, 哈, 啊 …) dropped, long digit runs (order numbers, phone
numbers) dropped, whitespace kept only between Latin
words. Similar wording: RapidFuzz's ``token_sort_ratio`` at or above
:data:`SIMILARITY`.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

logger = logging.getLogger(__name__)

SIMILARITY = 90.0
MIN_FUZZY_LENGTH = 4
MAX_NORMALIZED = 512
# Particles that carry tone, not meaning, in shop chat.
PARTICLES = "亲呀哈啊吧呢哦噢嘛啦哇呐咯嗯诶哎呗"
_PARTICLES_RE = re.compile(f"[{PARTICLES}]+")
_DIGITS_RE = re.compile(r"\d{5,}")
_SPACE_RE = re.compile(r"\s+")
_LATIN_GAP_RE = re.compile(r"(?<=[a-z0-9]) (?=[a-z0-9])")
DIGITS_PLACEHOLDER = "#"


@functools.cache
def _to_simplified() -> Callable[[str], str]:
    try:
        import opencc  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        logger.warning("opencc is not installed: Traditional Chinese is not folded to Simplified")
        return lambda text: text
    converter = opencc.OpenCC("t2s")
    return lambda text: str(converter.convert(text))


def _keep(char: str) -> str:
    category = unicodedata.category(char)
    if category[0] in ("P", "S", "C"):
        return " "
    return char


def normalize(text: str) -> str:
    """The wording of ``text`` that near-duplicates share (see the module's docstring).

    Examples:
        >>> normalize("親，我的訂單到哪裡了呀？？")
        '我的订单到哪里了'
        >>> normalize("Where is  my ORDER 20241105001?")
        'where is my order'
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = _to_simplified()(folded).lower()
    folded = "".join(_keep(char) for char in folded)
    had_number = bool(_DIGITS_RE.search(folded))
    folded = _DIGITS_RE.sub(" ", folded)
    folded = _PARTICLES_RE.sub(" ", folded)
    folded = _SPACE_RE.sub(" ", folded).strip()
    # Spaces matter between Latin words only; "我的 订单" is "我的订单".
    kept = _LATIN_GAP_RE.sub("\0", folded).replace(" ", "").replace("\0", " ")
    if not kept and had_number:
        return DIGITS_PLACEHOLDER  # a bare order number is still something the customer said
    return kept[:MAX_NORMALIZED]


def similar(a: str, b: str) -> bool:
    """Whether two normalised wordings are near-duplicates."""
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH:
        return False
    return fuzz.token_sort_ratio(a, b) >= SIMILARITY


def closest(normalized: str, candidates: Iterable[tuple[int, str]]) -> int | None:
    """The key of the candidate ``(key, wording)`` most similar to ``normalized``, if any is."""
    choices: dict[str, int] = {}
    for key, wording in candidates:
        if wording == normalized:
            return key
        if len(wording) >= MIN_FUZZY_LENGTH:
            choices.setdefault(wording, key)
    if len(normalized) < MIN_FUZZY_LENGTH or not choices:
        return None
    found = process.extractOne(
        normalized, list(choices), scorer=fuzz.token_sort_ratio, score_cutoff=SIMILARITY
    )
    return None if found is None else choices[found[0]]
