"""Reasons are reasons (issue 17, point 1): only an explicit stop asks, once, before dropping.

"不想要了" (read as deny), "不喜欢", "买多了" and "don't need it anymore" are
the commonest reasons there are; "算了 / never mind" backs out, and the bot
asks once whether to drop the request.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import is_explicit_stop
from actions.form_questions import ActionAskReason
from actions.order_form import ValidateOrderForm
from actions.tasks import ActionRunTask
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()
ORDER = "20241105020"  # delivered, no case in the seed
REASONS = ["不想要了", "不喜欢", "买多了", "不想要了，太贵", "don't need it anymore", "不想要了啦"]
STOPS = [
    "算了",
    "算了吧",
    "不用了",
    "那就算了",
    "不退了",
    "取消申请",
    "never mind",
    "Forget it.",
    "stop",
]


async def at_reason_prompt(text: str, intent: str, **slots: Any):
    """The form's validation of ``text`` answering "why?" (Rasa's from_text took it)."""
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={
            "task": "refund",
            "order_id": ORDER,
            "order_status": "delivered",
            "order_confirmed": True,
            "requested_slot": "reason",
            **slots,
        },
        set_this_turn={"reason": text},
        active_loop="order_form",
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher, slot_events(events)


def test_the_reason_slot_takes_deny_and_complaints_at_the_domain_level() -> None:
    (mapping,) = DOMAIN["slots"]["reason"]["mappings"]
    assert mapping["type"] == "from_text"
    assert mapping["not_intent"] == ["request_human"]  # "不想要了" reads as deny
    # The task is read only outside the form or at the order-number prompt,
    # in the mappings themselves (no validator patch).
    for task_mapping in DOMAIN["slots"]["task"]["mappings"]:
        assert task_mapping["conditions"] == [
            {"active_loop": None},
            {"active_loop": "order_form", "requested_slot": "order_id"},
        ]


@pytest.mark.parametrize("text", REASONS)
@pytest.mark.parametrize("intent", ["deny", "complain", "nlu_fallback"])
async def test_a_negative_reason_is_the_reason(shop, text: str, intent: str) -> None:
    dispatcher, slots = await at_reason_prompt(text, intent)
    assert slots["reason"] == text
    assert slots["requested_slot"] is None  # the form is complete: the case follows
    assert not slots.get("stop_requested")
    assert responses(dispatcher) == []


@pytest.mark.parametrize("text", STOPS)
async def test_an_explicit_stop_asks_once(shop, text: str) -> None:
    _, slots = await at_reason_prompt(text, "deny")
    assert slots["reason"] is None
    assert slots["stop_requested"] == "asked"
    assert slots["requested_slot"] == "reason"
    for language, word in [("zh-Hans", "退款"), ("zh-Hant", "退款"), ("en", "refund")]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            slots={"task": "refund", "stop_requested": "asked", "language": language}
        )
        await ActionAskReason().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_ask_stop_request"]
        assert dispatcher.messages[0]["case_type"] == word


def test_reasons_are_not_stops_and_stops_are() -> None:
    assert not any(is_explicit_stop(text) for text in REASONS)
    assert all(is_explicit_stop(text) for text in STOPS)


@pytest.mark.parametrize(
    ("text", "intent"), [("/affirm", "affirm"), ("是的", "affirm"), ("算了", "deny")]
)
async def test_yes_to_drop_it_ends_the_form_and_opens_nothing(
    shop: httpx.Client, text: str, intent: str
) -> None:
    _, slots = await at_reason_prompt(text, intent, stop_requested="asked")
    assert slots["stop_requested"] == "confirmed"
    assert slots["requested_slot"] is None
    assert slots["reason"] is None

    before = shop.get("/after-sales", params={"order_id": ORDER}).json()["cases"]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"task": "refund", "order_id": ORDER, "stop_requested": "confirmed", "language": "en"}
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_request_dropped"]
    assert dispatcher.messages[0]["case_type"] == "refund"
    assert shop.get("/after-sales", params={"order_id": ORDER}).json()["cases"] == before
    assert events["task"] is None and events["stop_requested"] is None


async def test_no_to_drop_it_asks_for_the_reason_again(shop) -> None:
    dispatcher, slots = await at_reason_prompt("/deny", "deny", stop_requested="asked")
    assert slots["stop_requested"] is None
    assert slots["reason"] is None
    assert slots["requested_slot"] == "reason"
    dispatcher = CollectingDispatcher()
    await ActionAskReason().run(dispatcher, make_tracker(slots={"task": "refund"}), DOMAIN)
    assert responses(dispatcher) == ["utter_ask_reason"]


async def test_a_reason_after_drop_it_is_the_reason(shop) -> None:
    _, slots = await at_reason_prompt("不想要了", "deny", stop_requested="asked")
    assert (slots["reason"], slots["stop_requested"]) == ("不想要了", None)
    assert slots["requested_slot"] is None
