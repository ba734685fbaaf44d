"""Rating parsing and the CSAT texts (``handoff/services/csat_wording.py``)."""

from __future__ import annotations

import pytest

from handoff.services import csat_wording as csat


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("４", 4),
        ("★★★", 3),
        ("★★★★★", 5),
        ("3分", 3),
        ("4 stars", 4),
        ("0", None),
        ("6", None),
        ("45", None),
        ("where is my order", None),
        ("", None),
        ("★★★★★★", None),
    ],
)
def test_parse_rating(text: str, rating: int | None) -> None:
    assert csat.parse_rating(text) == rating


def test_csat_texts_follow_the_language() -> None:
    assert "rate" in csat.text("prompt", "en")
    assert "评分" in csat.text("prompt", "zh-Hans") or "打分" in csat.text("prompt", "zh-Hans")
    assert "評分" in csat.text("prompt", "zh-Hant")
    assert csat.text("thanks", None) == csat.text("thanks", "zh-Hans")
