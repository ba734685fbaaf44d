"""The privacy notice (issue 16, point 7): a new customer's first message gets it, once.

``action_session_start`` runs before Rasa reads a new conversation's first
message: it is Rasa's session start (slots carried over) plus the notice, in
the language known then, with ``PRIVACY_NOTICE_URL`` when set; the web chat
shows the notice on its page and is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import ActionSessionStart
from tests.support.trackers import load_domain, slot_events

DOMAIN = load_domain()
URL = "https://shop.example/privacy"


def session_start_tracker(
    sender: str, *, slots: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None
) -> Tracker:
    """The tracker Rasa sends when it starts a session, before the message is read."""
    values = {"privacy_notice_shown": False, "awaiting_confirmation": False} | (slots or {})
    return Tracker(sender, values, {}, list(events or []), False, None, {}, "action_listen")


async def run(tracker: Tracker) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, tracker, DOMAIN)
    return [message["text"] for message in dispatcher.messages], events


@pytest.fixture(autouse=True)
def _no_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.delenv("PRIVACY_NOTICE_URL", raising=False)


@pytest.mark.parametrize(
    ("sender", "metadata", "words"),
    [
        ("telegram:42", {"language_code": "zh-hans"}, "客服人员看到的个人信息已脱敏"),
        ("telegram:43", {"language_code": "zh-TW"}, "客服人員看到的個人資料已遮蔽"),
        ("telegram:44", {"language_code": "en-GB"}, "our agents see personal data masked"),
        ("wechat:oAbc", None, "客服人员看到的个人信息已脱敏"),
        ("a-rest-client", {"language_code": "en"}, "our agents see personal data masked"),
        ("a-rest-client", None, "客服人员看到的个人信息已脱敏"),
    ],
)
async def test_a_new_customer_gets_the_notice_in_their_language(
    sender: str, metadata: dict[str, Any] | None, words: str
) -> None:
    slots = {"session_started_metadata": metadata} if metadata else {}
    texts, events = await run(session_start_tracker(sender, slots=slots))
    assert len(texts) == 1
    assert words in texts[0]
    assert "{privacy_url}" not in texts[0] and "http" not in texts[0]
    assert events[0]["event"] == "session_started"
    assert slot_events(events)["privacy_notice_shown"] is True
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")


@pytest.mark.parametrize(
    ("language", "link"),
    [
        ("zh-Hans", "隐私政策：" + URL),
        ("zh-Hant", "隱私權政策：" + URL),
        ("en", "Privacy notice: " + URL),
    ],
)
async def test_the_link_is_the_setting(
    monkeypatch: pytest.MonkeyPatch, language: str, link: str
) -> None:
    monkeypatch.setenv("PRIVACY_NOTICE_URL", URL)
    texts, _ = await run(session_start_tracker("telegram:7", slots={"language": language}))
    assert len(texts) == 1 and texts[0].endswith(link)


async def test_the_conversation_language_wins_over_the_platform_code() -> None:
    tracker = session_start_tracker(
        "telegram:8",
        slots={"language": "zh-Hant", "session_started_metadata": {"language_code": "en"}},
    )
    texts, _ = await run(tracker)
    assert "客服人員看到的個人資料已遮蔽" in texts[0]


async def test_the_web_chat_is_skipped() -> None:
    texts, events = await run(session_start_tracker("webchat:abc123"))
    assert texts == []
    assert "privacy_notice_shown" not in slot_events(events)


async def test_a_returning_customer_does_not_get_it_again() -> None:
    history = [
        {"event": "slot", "name": "privacy_notice_shown", "value": True},
        {"event": "slot", "name": "order_id", "value": "20241105001"},
        {"event": "slot", "name": "language", "value": "en"},
    ]
    slots = {"privacy_notice_shown": True, "order_id": "20241105001", "language": "en"}
    texts, events = await run(session_start_tracker("telegram:9", slots=slots, events=history))
    assert texts == []
    # Rasa's own session start: every slot set so far is carried into the new session.
    assert slot_events(events) == slots


async def test_slots_before_a_restart_are_not_carried_over() -> None:
    history = [
        {"event": "slot", "name": "order_id", "value": "20241105001"},
        {"event": "restart"},
        {"event": "slot", "name": "language", "value": "en"},
    ]
    _, events = await run(
        session_start_tracker("telegram:10", slots={"language": "en"}, events=history)
    )
    assert set(slot_events(events)) == {"language", "privacy_notice_shown"}
