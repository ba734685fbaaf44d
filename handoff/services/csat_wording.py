"""Parsing a customer's rating and the CSAT texts in their language."""

from __future__ import annotations

import unicodedata

RATING_BUTTONS = [{"title": str(n), "payload": str(n)} for n in range(1, 6)]

_TEXTS = {
    "prompt": {
        "zh-Hans": "本次服务已结束。请为我们的服务打分（1–5，5 为非常满意）：",
        "zh-Hant": "本次服務已結束。請為我們的服務評分（1–5，5 為非常滿意）：",
        "en": "This conversation is resolved. How did we do? Please rate us from 1 to 5 "
        "(5 = excellent):",
    },
    "comment": {
        "zh-Hans": "谢谢您的评分！还有什么想补充的吗？可以直接回复（可选）。",
        "zh-Hant": "謝謝您的評分！還有什麼想補充的嗎？可以直接回覆（可選）。",
        "en": "Thank you for rating us! Anything you would like to add? Just reply (optional).",
    },
    "thanks": {
        "zh-Hans": "感谢您的反馈！如有其他问题，随时告诉我。",
        "zh-Hant": "感謝您的回饋！如有其他問題，隨時告訴我。",
        "en": "Thank you for your feedback! Write any time if you need anything else.",
    },
}


def text(key: str, language: str | None) -> str:
    """One of the CSAT texts in the customer's language (Simplified Chinese by default)."""
    variants = _TEXTS[key]
    if language and language.startswith("en"):
        return variants["en"]
    if language in variants:
        return variants[language]
    return variants["zh-Hans"]


def parse_rating(message: str | None) -> int | None:
    """1–5 from ``"4"``, ``"４"`` (full width), ``"★★★"`` or ``"4分"``; None for anything else."""
    if not message:
        return None
    stripped = unicodedata.normalize("NFKC", message).strip()
    stars = stripped.replace("☆", "")
    if stars and set(stars) == {"★"} and 1 <= len(stars) <= 5:
        return len(stars)
    for suffix in ("分", "星", "stars", "star"):
        if stripped.lower().endswith(suffix):
            stripped = stripped[: -len(suffix)].strip()
            break
    if stripped.isdigit() and len(stripped) == 1 and 1 <= int(stripped) <= 5:
        return int(stripped)
    return None
