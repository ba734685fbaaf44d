from __future__ import annotations

import pytest

from bot.common.languages import detect_language, language_hint


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("我的快递到哪了", None, "zh-Hans"),
        ("我的包裹到哪裡了", None, "zh-Hant"),
        ("請問訂單狀態", "zh-Hans", "zh-Hant"),
        ("where is my parcel", None, "en"),
        ("where is my parcel", "zh-Hans", "en"),
        ("order 到哪了", None, "zh-Hans"),
        # Characters shared by both scripts keep the customer's script.
        ("好的", "zh-Hant", "zh-Hant"),
        ("好的", None, "zh-Hans"),
    ],
)
def test_language_follows_the_customers_words(
    text: str, previous: str | None, expected: str
) -> None:
    assert detect_language(text, previous) == expected


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("20241105001", "en"),  # a bare order number says nothing
        ("/affirm", "zh-Hant"),  # a button payload says nothing
        ("ok", "zh-Hans"),  # a lone "ok" from a Chinese writer is no switch
        ("👍", None),
        ("", None),
    ],
)
def test_messages_without_language_keep_the_previous_one(text: str, previous: str | None) -> None:
    assert detect_language(text, previous) is None


def test_platform_language_codes_map_onto_ours() -> None:
    assert language_hint({"language_code": "zh-hans"}) == "zh-Hans"
    assert language_hint({"language_code": "zh-TW"}) == "zh-Hant"
    assert language_hint({"language_code": "en"}) == "en"
    assert language_hint({"language_code": "de"}) == "en"
    assert language_hint({}) is None
