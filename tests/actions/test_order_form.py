"""The order form: format, existence, three strikes, and what each task asks for."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.order_form import ValidateOrderForm
from demo_shop import seed
from tests.support.faulty import closed_port_url
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()


async def validate(text: str, *, intent: str = "inform_order_id", **slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=text,
        intent=intent,
        slots={"requested_slot": "order_id", **slots},
        set_this_turn={"order_id": text},
        active_loop="order_form",
    )
    events = await ValidateOrderForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher, slot_events(events)


async def test_a_known_order_number_is_accepted_with_its_status(shop) -> None:
    dispatcher, slots = await validate(f"单号是{seed.ORDER_SHIPPED}", task="track")
    assert slots["order_id"] == seed.ORDER_SHIPPED
    assert slots["order_status"] == "shipped"
    assert slots["requested_slot"] is None  # nothing else needed
    assert responses(dispatcher) == []


async def test_lower_case_prefixes_are_normalised(shop) -> None:
    _, slots = await validate("jd8823412399", task="track")
    assert slots["order_id"] == "JD8823412399"


async def test_a_malformed_number_is_refused_and_counted(shop) -> None:
    dispatcher, slots = await validate("abc123", task="track")
    assert responses(dispatcher) == ["utter_order_id_invalid"]
    assert slots["order_id"] is None
    assert slots["order_id_attempts"] == 1
    assert slots["requested_slot"] == "order_id"


async def test_an_unknown_number_is_refused_and_counted(shop) -> None:
    dispatcher, slots = await validate("88888888", task="track", order_id_attempts=1)
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slots["order_id_attempts"] == 2


async def test_the_third_bad_answer_ends_the_form(shop) -> None:
    _, slots = await validate("不知道", intent="nlu_fallback", task="track", order_id_attempts=2)
    assert slots["order_id_attempts"] == 3
    assert slots["requested_slot"] is None


async def test_changing_the_task_mid_form_is_not_a_bad_answer(shop) -> None:
    dispatcher, slots = await validate("算了帮我取消吧", intent="cancel_order", task="cancel")
    assert responses(dispatcher) == []
    assert "order_id_attempts" not in slots


async def test_an_address_change_also_asks_for_the_address(shop) -> None:
    _, slots = await validate(seed.ORDER_PAID, task="change_address")
    assert slots["requested_slot"] == "new_address"


async def test_a_shipped_order_is_not_asked_for_an_address(shop) -> None:
    _, slots = await validate(seed.ORDER_SHIPPED, task="change_address")
    assert slots["requested_slot"] is None


async def test_an_after_sales_case_asks_for_a_reason(shop) -> None:
    _, slots = await validate(seed.ORDER_DELIVERED, task="return")
    assert slots["requested_slot"] == "reason"


async def test_a_defect_report_is_its_own_reason(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=f"订单{seed.ORDER_DELIVERED}收到的杯子漏水",
        intent="report_defect",
        slots={"task": "repair"},
        set_this_turn={"order_id": seed.ORDER_DELIVERED},
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(dispatcher, tracker, DOMAIN))
    assert slots["reason"] == f"订单{seed.ORDER_DELIVERED}收到的杯子漏水"
    assert slots["requested_slot"] is None


async def test_a_case_number_answers_refund_progress_without_an_order(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="售后单AS-000123到哪一步了",
        intent="check_refund_progress",
        slots={"task": "refund_progress"},
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(dispatcher, tracker, DOMAIN))
    assert slots["case_id"] == "AS-000123"
    assert slots["requested_slot"] is None


async def test_a_shop_outage_keeps_the_number_for_the_task_to_report(use_shop) -> None:
    use_shop(closed_port_url())
    _, slots = await validate(seed.ORDER_SHIPPED, task="track")
    assert slots["order_id"] == seed.ORDER_SHIPPED
    assert slots["order_status"] is None


async def test_a_phone_number_in_the_address_is_not_a_new_order(shop) -> None:
    history = [{"event": "slot", "name": "order_id", "value": seed.ORDER_PAID}]
    dispatcher = CollectingDispatcher()
    text = "上海市徐汇区漕溪北路88号 张三 13800000000"
    tracker = make_tracker(
        text=text,
        intent="inform_order_id",
        slots={
            "task": "change_address",
            "order_status": "paid",
            "order_confirmed": True,
            "requested_slot": "new_address",
        },
        set_this_turn={"order_id": "13800000000", "new_address": text},
        history=history,
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(dispatcher, tracker, DOMAIN))
    assert slots["order_id"] == seed.ORDER_PAID
    assert slots["new_address"] == text
    assert slots["requested_slot"] is None
    assert responses(dispatcher) == []


async def test_a_new_task_while_asked_for_the_order_still_switches(shop) -> None:
    """Before the order number, "actually, I want to return it" is a new task."""
    history = [{"event": "slot", "name": "task", "value": "track"}]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text="算了我要退货",
        intent="request_return",
        slots={"requested_slot": "order_id"},
        set_this_turn={"task": "return"},
        history=history,
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(dispatcher, tracker, DOMAIN))
    assert "task" not in slots  # Rasa's own SlotSet(task=return) stands
    assert tracker.get_slot("task") == "return"


async def test_a_second_bad_answer_in_a_row_ends_the_form_the_ladder_offers_a_person(
    shop, monkeypatch
) -> None:
    monkeypatch.delenv("ESCALATION_OFFER_AFTER", raising=False)
    first = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "abc", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "order_form"},
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_order_id_invalid"}},
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_order_id"}},
    ]

    def second_bad_answer():
        return make_tracker(
            text="xyz",
            intent="nlu_fallback",
            slots={"requested_slot": "order_id", "task": "track", "order_id_attempts": 1},
            set_this_turn={"order_id": "xyz"},
            history=first,
            active_loop="order_form",
        )

    form = ValidateOrderForm()
    slots = slot_events(await form.run(CollectingDispatcher(), second_bad_answer(), DOMAIN))
    assert slots["order_id_attempts"] == 3
    assert slots["requested_slot"] is None  # action_run_task offers a person

    monkeypatch.setenv("ESCALATION_OFFER_AFTER", "0")  # the ladder off: three strikes
    slots = slot_events(await form.run(CollectingDispatcher(), second_bad_answer(), DOMAIN))
    assert slots["order_id_attempts"] == 2
    assert slots["requested_slot"] == "order_id"
