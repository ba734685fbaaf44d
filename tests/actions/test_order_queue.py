"""Several orders in one message are handled in turn (issue 21, point 4).

The form asks which first and keeps the others; once the case for the chosen
one is filed, the next is offered; yes starts the same task on it, no
forgets the rest. A question the task itself asked comes first.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.order_form import ValidateOrderForm
from actions.tasks import ActionConfirmPending, ActionDeclinePending, ActionRunTask
from demo_shop import seed
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()
FIRST, OTHER = "20241104025", "20241028026"  # delivered, completed: both may be returned


async def test_the_form_keeps_the_other_orders(shop) -> None:
    text = f"{FIRST} 和 {OTHER} 都要退货"
    tracker = make_tracker(
        text=text,
        intent="request_return",
        slots={"task": "return"},
        set_this_turn={"order_id": FIRST},
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, DOMAIN))
    assert slots["order_id"] is None and slots["requested_slot"] == "order_id"
    assert slots["order_queue"] == {"task": "return", "order_ids": [FIRST, OTHER]}


def queued(order_ids: list[str]) -> dict[str, Any]:
    return {"task": "return", "order_ids": order_ids}


async def test_after_the_first_case_the_other_order_is_offered(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "task": "return",
            "order_id": OTHER,
            "reason": "买多了",
            "order_queue": queued([FIRST, OTHER]),
            "language": "en",
        }
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_case_created", "utter_offer_next_order"]
    assert dispatcher.messages[1]["order_id"] == FIRST
    assert (events["awaiting_confirmation"], events["pending_action"]) == (True, "next_order")
    assert events["order_queue"] == queued([FIRST])
    assert events["task"] is None  # the first task is done


async def test_yes_starts_the_same_task_on_the_next_order(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="affirm",
        slots={
            "pending_action": "next_order",
            "awaiting_confirmation": True,
            "order_id": OTHER,
            "order_queue": queued([FIRST]),
        },
    )
    events = await ActionConfirmPending().run(dispatcher, tracker, DOMAIN)
    slots = slot_events(events)
    assert (slots["task"], slots["order_id"], slots["order_status"]) == (
        "return",
        FIRST,
        "delivered",
    )
    assert slots["order_confirmed"] is True and slots["order_queue"] is None
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "order_form"}


async def test_no_forgets_the_rest() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="deny",
        slots={
            "pending_action": "next_order",
            "awaiting_confirmation": True,
            "order_id": OTHER,
            "order_queue": queued([FIRST]),
        },
    )
    slots = slot_events(await ActionDeclinePending().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_anything_else"]
    assert slots["order_queue"] is None and slots["awaiting_confirmation"] is False


async def test_the_tasks_own_question_comes_first_then_the_offer(shop) -> None:
    # The chosen order is on its way: explained, tracked, asked about; the
    # other order waits for that answer.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "task": "return",
            "order_id": seed.ORDER_SHIPPED,
            "order_queue": queued([seed.ORDER_SHIPPED, FIRST]),
        }
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher)[-1] == "utter_ask_after_delivery"
    assert events["pending_action"] == "track"
    assert events["order_queue"] == queued([FIRST])

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="deny",
        slots={
            "pending_action": "track",
            "awaiting_confirmation": True,
            "order_id": seed.ORDER_SHIPPED,
            "order_queue": queued([FIRST]),
        },
    )
    events = slot_events(await ActionDeclinePending().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_apply_after_delivery", "utter_offer_next_order"]
    assert events["pending_action"] == "next_order"


async def test_a_stale_queue_of_another_task_is_dropped(shop) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"task": "track", "order_id": seed.ORDER_SHIPPED, "order_queue": queued([FIRST])}
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_tracking"]
    assert events["order_queue"] is None
