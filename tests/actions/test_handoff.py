"""Handing off: reasons, pausing, and the two-strikes rule for misunderstandings."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandleMisunderstanding, ActionHandoff
from actions.language import ActionDetectLanguage
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        ("转人工", "request_human", "explicit_request"),
        ("我要投诉你们", "complain", "complaint"),
        ("再不处理我就找律师起诉你们", "complain", "sensitive_topic"),
        ("the kettle burned my hand", "report_defect", "sensitive_topic"),
    ],
)
async def test_handoff_records_why_and_pauses(text: str, intent: str, reason: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker(text=text, intent=intent), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff"]
    assert slot_events(events)["handoff_reason"] == reason
    assert events[-1]["event"] == "pause"


async def test_asking_for_a_human_after_an_outage_names_the_outage() -> None:
    history = [
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_shop_unavailable"}}
    ]
    tracker = make_tracker(text="人工", intent="request_human", history=history)
    events = await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    assert slot_events(events)["handoff_reason"] == "shop_unavailable"


async def test_handoff_closes_an_open_form() -> None:
    tracker = make_tracker(text="人工", intent="request_human", active_loop="order_form")
    events = await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
    ]


RANKING = [
    {"name": "nlu_fallback", "confidence": 0.4},
    {"name": "track_shipment", "confidence": 0.35},
    {"name": "check_order_status", "confidence": 0.3},
    {"name": "greet", "confidence": 0.05},
]


async def test_first_misunderstanding_asks_to_rephrase_with_suggestions() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="那个东西呢", intent="nlu_fallback", intent_ranking=RANKING)
    events = await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/track_shipment", "/check_order_status"]
    assert buttons[0]["title"] == "查物流"


async def test_second_misunderstanding_in_a_row_hands_off() -> None:
    history = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "嗯嗯那个", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_handle_misunderstanding"},
        {"event": "bot", "text": "抱歉…"},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="就是那个啊", intent="nlu_fallback", history=history)
    events = await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff"]
    assert slot_events(events)["handoff_reason"] == "repeated_misunderstanding"


async def test_a_misunderstanding_after_an_understood_turn_starts_over() -> None:
    history = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "嗯嗯那个", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_handle_misunderstanding"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "action", "name": "utter_greet"},
    ]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="就是那个啊", intent="nlu_fallback", history=history)
    await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_ask_rephrase_plain"]


async def test_language_slot_follows_each_message() -> None:
    action = ActionDetectLanguage()
    tracker = make_tracker(text="where is my parcel", slots={"language": "zh-Hans"})
    assert slot_events(await action.run(CollectingDispatcher(), tracker, DOMAIN)) == {
        "language": "en"
    }
    tracker = make_tracker(text="20241105001", slots={"language": "en"})
    assert await action.run(CollectingDispatcher(), tracker, DOMAIN) == []
