"""The order form's answers: an identifier is never a reason, carried-over orders are confirmed.

Property-style: every free-text prompt of the form (reason, new address,
"is it this order?") against every kind of identifier a customer pastes.
"""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.form_questions import ActionAskOrderConfirmed, ActionAskOrderId
from actions.order_form import ValidateOrderForm
from actions.order_ids import find_order_id
from demo_shop import seed
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()
# The order the form is about, and for each prompt the task that reaches it.
CURRENT = seed.ORDER_DELIVERED  # delivered, c-1001
PROMPTS = {
    "reason": {"task": "return", "order_status": "delivered", "order_confirmed": True},
    "new_address": {"task": "change_address", "order_status": "paid", "order_confirmed": True},
    "order_confirmed": {"task": "refund", "order_status": "delivered"},
}
KNOWN_ORDERS = [
    seed.ORDER_DELIVERED_C1003,
    seed.ORDER_COMPLETED,
    seed.ORDER_SHIPPED,
    "JD8823412399",
]
OTHER_IDENTIFIERS = ["SF1234567890", "73100123456789", "13812345678", "AS-000123", "88888888"]
WRAPPINGS = ["{}", "订单号是{}", "不是这个，是{}", "it's order {}", "訂單號{}", " {} "]


async def answer(
    prompt: str, text: str, *, current: str = CURRENT, intent: str = "inform_order_id"
):
    """The form's validation of ``text`` sent while ``prompt`` was asked."""
    extracted: dict[str, str] = {}
    if find_order_id(text):
        extracted["order_id"] = find_order_id(text) or ""
    if prompt in ("reason", "new_address"):
        extracted[prompt] = text  # Rasa's from_text mapping
    slots = {**PROMPTS[prompt], "requested_slot": prompt, "order_id": current}
    if prompt == "new_address":
        slots["order_id"] = current = seed.ORDER_PAID
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots=slots,
        set_this_turn=extracted,
        history=[{"event": "slot", "name": "order_id", "value": current}],
        active_loop="order_form",
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher, slot_events(events), current


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize("identifier", KNOWN_ORDERS + OTHER_IDENTIFIERS)
@pytest.mark.parametrize("prompt", list(PROMPTS))
async def test_an_identifier_is_never_stored_as_an_answer(
    shop, prompt: str, identifier: str, wrapping: str
) -> None:
    dispatcher, slots, current = await answer(prompt, wrapping.format(identifier))
    for slot in ("reason", "new_address"):
        assert not slots.get(slot), (slot, slots)
    if identifier in KNOWN_ORDERS:
        # The customer means that order: switched, confirmed, asked again.
        assert slots["order_id"] == identifier
        assert slots["order_confirmed"] is True
        assert responses(dispatcher) == ["utter_order_switched"]
        assert slots["order_status"] in ("delivered", "completed", "shipped")
    else:
        assert slots["order_id"] == current  # the order stays
        assert responses(dispatcher) == ["utter_answer_is_identifier"]
        assert slots["requested_slot"] == prompt  # the question again


async def test_after_switching_the_reason_is_asked_again_when_eligible(shop) -> None:
    _, slots, _ = await answer("reason", seed.ORDER_DELIVERED_C1003)
    assert slots["requested_slot"] == "reason"


async def test_switching_to_an_order_that_cannot_have_the_case_asks_nothing_more(shop) -> None:
    # A return of a parcel still on its way: no reason asked, the task explains.
    _, slots, _ = await answer("reason", seed.ORDER_SHIPPED)
    assert slots["requested_slot"] is None


@pytest.mark.parametrize(
    "text", ["尺码不合适", "too small", "东西坏了，订单20241111009收到就这样", "颜色和图片不一样"]
)
async def test_a_reason_is_still_a_reason(shop, text: str) -> None:
    _, slots, _ = await answer("reason", text, intent="nlu_fallback")
    assert slots["reason"] == text
    assert slots.get("order_id", CURRENT) == CURRENT


async def test_the_same_order_number_at_the_confirmation_confirms_it(shop) -> None:
    dispatcher, slots, _ = await answer("order_confirmed", CURRENT)
    assert (slots["order_id"], slots["order_confirmed"]) == (CURRENT, True)
    assert responses(dispatcher) == []
    assert slots["requested_slot"] == "reason"


async def start(text: str, task: str, *, carried: str | None, intent: str):
    """The form's first run for a request, with an order from an earlier turn or not."""
    extracted = {"order_id": find_order_id(text)} if find_order_id(text) else {}
    before = {"order_id": carried, "order_status": "shipped" if carried else None}
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={"task": task, **before},
        set_this_turn=extracted,
        history=[{"event": "slot", "name": "order_id", "value": carried}] if carried else [],
        active_loop="order_form",
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher, slot_events(events)


@pytest.mark.parametrize(
    ("text", "task", "intent"),
    [
        ("我要退款", "refund", "request_refund"),
        ("我要退貨", "return", "request_return"),
        ("I want to return something", "return", "request_return"),
        ("催一下发货", "urge", "urge_shipment"),
        ("地址写错了要改", "change_address", "change_address"),
    ],
)
async def test_a_carried_over_order_is_confirmed_first(
    shop, text: str, task: str, intent: str
) -> None:
    _, slots = await start(text, task, carried=seed.ORDER_SHIPPED, intent=intent)
    assert slots["requested_slot"] == "order_confirmed"


@pytest.mark.parametrize("task", ["order_status", "track", "refund_progress", "cancel"])
async def test_reading_tasks_and_cancelling_need_no_confirmation(shop, task: str) -> None:
    _, slots = await start("再查一下", task, carried=seed.ORDER_SHIPPED, intent="track_shipment")
    assert slots["requested_slot"] is None


async def test_an_order_named_in_the_same_message_needs_no_confirmation(shop) -> None:
    text = f"订单{seed.ORDER_DELIVERED_C1003}我要退货"
    _, slots = await start(text, "return", carried=seed.ORDER_SHIPPED, intent="request_return")
    assert (slots["order_id"], slots["order_confirmed"]) == (seed.ORDER_DELIVERED_C1003, True)
    assert slots["requested_slot"] == "reason"


async def test_no_to_the_carried_over_order_asks_for_the_other(shop) -> None:
    tracker = make_tracker(
        text="/deny",
        intent="deny",
        slots={
            **PROMPTS["order_confirmed"],
            "order_id": CURRENT,
            "requested_slot": "order_confirmed",
        },
        set_this_turn={"order_confirmed": False},
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, DOMAIN))
    assert (slots["order_id"], slots["order_confirmed"]) == (None, None)
    assert slots["requested_slot"] == "order_id"


@pytest.mark.parametrize("text", ["其他订单", "其他訂單", "Another order", "不是，是别的订单"])
async def test_the_other_order_button_typed_back_asks_for_the_other(shop, text: str) -> None:
    """Channels without buttons show the titles: customers type them back."""
    dispatcher, slots, _ = await answer("order_confirmed", text, intent="check_order_status")
    assert (slots["order_id"], slots["order_confirmed"]) == (None, None)
    assert slots["requested_slot"] == "order_id"
    assert responses(dispatcher) == []


async def test_the_confirmation_names_the_order_and_its_items(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"order_id": seed.ORDER_SHIPPED, "task": "refund"})
    await ActionAskOrderConfirmed().run(dispatcher, tracker, DOMAIN)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_ask_order_confirmed"
    assert (message["order_id"], message["items"]) == (seed.ORDER_SHIPPED, "空气炸锅 4L ×1")


@pytest.mark.parametrize(
    "text",
    [
        "20241105001 和 20241111009 都要退",
        "退款 20241105001、20241111009",
        "orders 20241105001 and 20241111009",
    ],
)
async def test_several_orders_in_a_message_ask_which_first(shop, text: str) -> None:
    _, slots = await start(text, "refund", carried=None, intent="request_refund")
    assert slots["order_id"] is None
    assert slots["requested_slot"] == "order_id"
    dispatcher = CollectingDispatcher()
    await ActionAskOrderId().run(dispatcher, make_tracker(text=text), DOMAIN)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_which_order"
    assert [b["title"] for b in message["buttons"]] == ["20241105001", "20241111009"]
    assert message["buttons"][0]["payload"] == '/inform_order_id{"order_id": "20241105001"}'


async def test_several_orders_at_the_reason_prompt_ask_which(shop) -> None:
    _, slots, _ = await answer("reason", f"{seed.ORDER_DELIVERED_C1003} 和 {seed.ORDER_COMPLETED}")
    assert slots["order_id"] is None and not slots.get("reason")
    assert slots["requested_slot"] == "order_id"
