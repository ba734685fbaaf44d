"""Reading web chat events and trackers, on payloads recorded from real clients and Rasa."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.common.languages import EN, ZH_HANS, ZH_HANT
from bot.common.text_only import BILINGUAL_REPLY, text_only_reply
from connectors.webchat.parse import (
    MAX_TEXT_CHARS,
    InboundKind,
    Turn,
    conversation_id,
    history_turns,
    parse_user_uttered,
    session_id_of,
    valid_session_id,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webchat"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _tracker_events(name: str) -> list[dict[str, Any]]:
    return list(_fixture(name)["events"])


# --- sessions ----------------------------------------------------------------------


def test_session_requests_of_real_clients() -> None:
    requests = _fixture("session_request.json")

    assert session_id_of(requests["first_visit"]) is None
    assert session_id_of(requests["returning"]) == "9a4c0e3b8f2d4b61a7e5c3d1f0b9a8e7"
    assert session_id_of(requests["bare_id"]) == "9a4c0e3b8f2d4b61a7e5c3d1f0b9a8e7"
    assert session_id_of(requests["no_data"]) is None


@pytest.mark.parametrize(
    "value",
    [None, "", "short", "x" * 65, "../../etc/passwd", "a b c d e f g h i", "<script>alert(1)", 7],
)
def test_only_ids_shaped_like_ours_are_sessions(value: object) -> None:
    assert valid_session_id(value) is None


def test_the_conversation_id_carries_the_channel() -> None:
    assert conversation_id("4f1d2a9c7e6b4c0a8d3e5f7a9b1c2d3e") == (
        "webchat:4f1d2a9c7e6b4c0a8d3e5f7a9b1c2d3e"
    )


# --- user_uttered ------------------------------------------------------------------


def test_our_pages_message() -> None:
    inbound = parse_user_uttered(_fixture("user_uttered.json")["our_page"])

    assert inbound is not None
    assert inbound.kind is InboundKind.TEXT
    assert inbound.text == "订单20241105001到哪了"
    assert inbound.session_id == "4f1d2a9c7e6b4c0a8d3e5f7a9b1c2d3e"
    assert inbound.message_id == "c0ffee00c0ffee00c0ffee00c0ffee00"
    assert inbound.metadata == {"language_code": "zh-CN"}


def test_rasa_webchats_message_with_its_custom_data() -> None:
    inbound = parse_user_uttered(_fixture("user_uttered.json")["rasa_webchat"])

    assert inbound is not None
    assert inbound.text == "/get_started"
    assert inbound.session_id == "9a4c0e3b8f2d4b61a7e5c3d1f0b9a8e7"
    assert inbound.message_id is None
    assert inbound.metadata == {"language_code": "en"}


@pytest.mark.parametrize("name", ["rasa_docs", "socket_id_as_session", "our_page_button"])
def test_other_clients_messages_are_text(name: str) -> None:
    inbound = parse_user_uttered(_fixture("user_uttered.json")[name])

    assert inbound is not None and inbound.kind is InboundKind.TEXT
    assert inbound.session_id is not None


def test_markup_is_kept_as_the_customer_typed_it() -> None:
    inbound = parse_user_uttered({"message": "<img src=x onerror=alert(1)>"})

    assert inbound is not None and inbound.text == "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    "metadata",
    [
        {"language_code": "zh-CN<script>"},
        {"language_code": 42},
        {"language_code": "x" * 40},
        "zh-CN",
    ],
)
def test_only_a_plausible_language_tag_is_kept(metadata: object) -> None:
    inbound = parse_user_uttered({"message": "hi", "metadata": metadata})

    assert inbound is not None and inbound.metadata == {}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"attachment": {"type": "image", "payload": {"src": "a.png"}}}, InboundKind.UNSUPPORTED),
        ({"message": {"type": "sticker"}}, InboundKind.UNSUPPORTED),
        ({"message": ["a", "b"]}, InboundKind.UNSUPPORTED),
        ({"message": "x" * (MAX_TEXT_CHARS + 1)}, InboundKind.TOO_LONG),
        ({"message": "x" * MAX_TEXT_CHARS}, InboundKind.TEXT),
    ],
)
def test_what_is_not_plain_text(data: dict[str, Any], kind: InboundKind) -> None:
    inbound = parse_user_uttered(data)

    assert inbound is not None and inbound.kind is kind


@pytest.mark.parametrize("data", [None, "hello", 42, [], {}, {"message": "  \n "}, {"foo": 1}])
def test_nothing_to_answer(data: object) -> None:
    assert parse_user_uttered(data) is None


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [
        ("zh-CN", text_only_reply(ZH_HANS)),
        ("zh-TW", text_only_reply(ZH_HANT)),
        ("en-GB", text_only_reply(EN)),
        (None, BILINGUAL_REPLY),
    ],
)
def test_the_polite_reply_is_in_the_customers_language(
    language_code: str | None, expected: str
) -> None:
    data: dict[str, Any] = {"attachment": {"type": "file"}}
    if language_code:
        data["metadata"] = {"language_code": language_code}
    inbound = parse_user_uttered(data)

    assert inbound is not None and inbound.reply() == expected


# --- history -----------------------------------------------------------------------


def test_history_of_a_recorded_order_question() -> None:
    turns = history_turns(_tracker_events("tracker_order_zh.json"))

    assert turns[0] == Turn("user", "订单20241105001到哪了")
    assert any("SF1234567890" in turn.text for turn in turns if turn.role == "bot")
    assert all(turn.text for turn in turns)


def test_history_of_a_recorded_button_click_shows_the_title() -> None:
    events = _tracker_events("tracker_cancel_en.json")
    turns = history_turns(events)

    assert [turn.text for turn in turns if turn.role == "user"] == [
        "cancel order 20241113018",
        "No, keep it",
    ]
    asked = next(turn for turn in turns if turn.buttons)
    assert [button.title for button in asked.buttons] == ["Yes, cancel it", "No, keep it"]
    assert asked.as_json()["buttons"][1] == {"title": "No, keep it", "payload": "/deny"}


def test_history_splits_bot_texts_like_the_output_and_skips_the_rest() -> None:
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "user", "text": "EXTERNAL: handoff_resumed"},
        {"event": "user", "text": "hi"},
        {"event": "slot", "name": "language", "value": "en"},
        {"event": "bot", "text": "Hello!\n\nHow can I help?", "data": {}},
        {"event": "bot", "text": None, "data": {"custom": {"kind": "card"}}},
        {"event": "user", "text": "/deny"},
    ]

    assert history_turns(events) == [
        Turn("user", "hi"),
        Turn("bot", "Hello!"),
        Turn("bot", "How can I help?"),
        Turn("user", "/deny"),
    ]
    assert history_turns(events, limit=2) == [Turn("bot", "How can I help?"), Turn("user", "/deny")]
