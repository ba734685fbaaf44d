"""The escalation ladder (issue 17, point 2): unhelpful turns in a row lead to a person.

Two unhelpful bot turns in a row offer a person with buttons, a third hands
off; a helpful answer in between starts the count again; both steps are
configurable.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import (
    ActionAnswerOutOfScope,
    ActionHandleMisunderstanding,
    unhelpful_streak,
)
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()

RANKING = [
    {"name": "nlu_fallback", "confidence": 0.4},
    {"name": "track_shipment", "confidence": 0.35},
    {"name": "check_order_status", "confidence": 0.3},
    {"name": "greet", "confidence": 0.05},
]


def turn(text: str, intent: str, action: str, *said: str) -> list[dict[str, Any]]:
    """One earlier turn: the customer's message, the action run, what the bot said."""
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
        {"event": "action", "name": action},
    ]
    events += [{"event": "bot", "text": "…", "metadata": {"utter_action": n}} for n in said]
    return events


GIBBERISH = turn(
    "qwpoeiruty zxmcnv", "out_of_scope", "action_answer_out_of_scope", "utter_out_of_scope"
)
FALLBACK = turn("嗯嗯那个", "nlu_fallback", "action_handle_misunderstanding", "utter_ask_rephrase")
BAD_NUMBER = turn(
    "12ab", "inform_order_id", "order_form", "utter_order_id_invalid", "utter_ask_order_id"
)
HELPFUL = turn("你好", "greet", "utter_greet", "utter_greet")


@pytest.fixture(autouse=True)
def _default_ladder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESCALATION_OFFER_AFTER", raising=False)
    monkeypatch.delenv("ESCALATION_HANDOFF_AFTER", raising=False)


async def test_first_misunderstanding_asks_to_rephrase_with_suggestions() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="那个东西呢", intent="nlu_fallback", intent_ranking=RANKING)
    events = await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_listen"}]
    assert responses(dispatcher) == ["utter_ask_rephrase"]
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/track_shipment", "/check_order_status"]
    assert buttons[0]["title"] == "查物流"


async def test_issue_conversation_two_out_of_scope_turns_offer_a_person() -> None:
    """The issue's "qwpoeiruty zxmcnv", then "lkjhg asdfpoiu"."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="lkjhg asdfpoiu", intent="out_of_scope", history=GIBBERISH)
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_out_of_scope", "utter_offer_human_unresolved"]
    for variant in DOMAIN["responses"]["utter_offer_human_unresolved"]:  # each language
        assert [b["payload"] for b in variant["buttons"]] == ["/affirm", "/deny"]
    slots = slot_events(events)
    assert (slots["pending_action"], slots["handoff_reason"]) == ("handoff", "unresolved")
    assert not any(event["event"] == "pause" for event in events)


async def test_two_misunderstandings_offer_a_person_the_third_hands_off() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="就是那个啊", intent="nlu_fallback", history=FALLBACK)
    events = await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_ask_rephrase_plain", "utter_offer_human_unresolved"]
    assert slot_events(events)["handoff_reason"] == "repeated_misunderstanding"

    dispatcher = CollectingDispatcher()
    second = turn(
        "就是那个啊",
        "nlu_fallback",
        "action_handle_misunderstanding",
        "utter_ask_rephrase_plain",
        "utter_offer_human_unresolved",
    )
    tracker = make_tracker(text="啊啊啊", intent="nlu_fallback", history=FALLBACK + second)
    events = await ActionHandleMisunderstanding().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert slot_events(events)["handoff_reason"] == "repeated_misunderstanding"
    assert events[-1]["event"] == "pause"


async def test_a_third_unhelpful_turn_of_any_kind_hands_off_as_unresolved() -> None:
    dispatcher = CollectingDispatcher()
    history = BAD_NUMBER + FALLBACK
    tracker = make_tracker(text="讲个笑话", intent="out_of_scope", history=history)
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert slot_events(events)["handoff_reason"] == "unresolved"
    assert events[-1]["event"] == "pause"


async def test_a_helpful_answer_resets_the_count() -> None:
    dispatcher = CollectingDispatcher()
    history = GIBBERISH + FALLBACK + HELPFUL
    tracker = make_tracker(text="lkjhg asdfpoiu", intent="out_of_scope", history=history)
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_out_of_scope"]
    assert events == []


def test_the_same_question_asked_again_is_unhelpful_an_answered_faq_is_not() -> None:
    ask = turn("我的订单", "check_order_status", "order_form", "utter_ask_order_id")
    again = turn("嗯", "affirm", "order_form", "utter_ask_order_id")
    assert unhelpful_streak(make_tracker(text="?", history=ask + again)) == 1
    faq = turn("运费多少", "faq", "utter_faq", "utter_faq/shipping_fee", "utter_ask_order_id")
    assert unhelpful_streak(make_tracker(text="?", history=ask + faq)) == 0


def test_a_hand_back_starts_the_count_again() -> None:
    history = [*GIBBERISH, {"event": "resume"}, *FALLBACK]
    assert unhelpful_streak(make_tracker(text="?", history=history)) == 1


async def test_the_ladder_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESCALATION_OFFER_AFTER", "0")
    monkeypatch.setenv("ESCALATION_HANDOFF_AFTER", "2")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="lkjhg asdfpoiu", intent="out_of_scope", history=GIBBERISH)
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert events[-1]["event"] == "pause"

    monkeypatch.setenv("ESCALATION_OFFER_AFTER", "3")
    monkeypatch.setenv("ESCALATION_HANDOFF_AFTER", "0")
    dispatcher = CollectingDispatcher()
    history = GIBBERISH + FALLBACK + BAD_NUMBER + GIBBERISH
    tracker = make_tracker(text="lkjhg asdfpoiu", intent="out_of_scope", history=history)
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_out_of_scope", "utter_offer_human_unresolved"]


def test_a_negative_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import settings

    monkeypatch.setenv("ESCALATION_OFFER_AFTER", "-1")
    with pytest.raises(settings.SettingsError):
        settings.load(read_dotenv=False)


async def test_an_offer_inside_the_form_leaves_the_form_so_yes_reaches_it() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="讲个笑话",
        intent="out_of_scope",
        history=GIBBERISH,
        active_loop="order_form",
        slots={"requested_slot": "order_id", "task": "track"},
    )
    events = await ActionAnswerOutOfScope().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_out_of_scope", "utter_offer_human_unresolved"]
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
    ]
    assert slot_events(events)["pending_action"] == "handoff"
    assert events[-1]["name"] == "action_listen"  # not back into the form's question
