"""Text cleaned where it comes in: NUL removed, lone surrogates replaced, the rest untouched."""

from __future__ import annotations

import json

from bot.common.clean_text import REPLACEMENT, clean_json, clean_text


def test_nul_is_removed_and_lone_surrogates_replaced() -> None:
    assert clean_text("ab\x00c") == "abc"
    assert clean_text("订单\ud800到哪了") == f"订单{REPLACEMENT}到哪了"
    assert clean_text("\udfff\x00") == REPLACEMENT
    # What JSON carries as an escape decodes to a lone surrogate: it comes out encodable.
    decoded = json.loads('"hi \\ud83d"')
    assert clean_text(decoded).encode("utf-8") == f"hi {REPLACEMENT}".encode()


def test_ordinary_text_is_left_as_it_is() -> None:
    for text in (
        "Where is my order?",
        "我要人工",
        "我要起訴你們",
        "emoji 😀 ok",
        "tab\tand\nline",
        "",
    ):
        assert clean_text(text) == text


def test_metadata_is_cleaned_throughout() -> None:
    metadata = {"a\x00": ["x\x00", {"y": "\ud800"}], "n": 1, "f": 0.5, "none": None}
    assert clean_json(metadata) == {"a": ["x", {"y": REPLACEMENT}], "n": 1, "f": 0.5, "none": None}
    assert clean_json(None) is None
