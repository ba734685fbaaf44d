"""Several orders in one message: after the first, the others are offered in turn.

The order form asks which order first and keeps the others in the
``order_queue`` slot (``{"task": ..., "order_ids": [...]}``). Once the task
for one order has run, the next is offered ("您还提到了订单…，要接着办理它
吗？"); yes starts the same task on it, no forgets the rest.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import TaskContext

QUEUE_SLOT = "order_queue"
NEXT_ORDER = "next_order"


def remaining(tracker: Tracker, task: str | None, done: str | None) -> dict[str, Any] | None:
    """The queue once ``done`` is handled, or None when nothing is left for ``task``."""
    queue = tracker.get_slot(QUEUE_SLOT)
    if not isinstance(queue, dict) or queue.get("task") != task or not task:
        return None
    order_ids = [order_id for order_id in queue.get("order_ids") or [] if order_id != done]
    return {"task": task, "order_ids": order_ids} if order_ids else None


def offer_next(dispatcher: CollectingDispatcher, queue: dict[str, Any] | None) -> list[EventType]:
    """Asks whether to go on with the next order of ``queue``; forgets an empty queue."""
    if not queue or not queue.get("order_ids"):
        return [SlotSet(QUEUE_SLOT, None)]
    dispatcher.utter_message(response="utter_offer_next_order", order_id=queue["order_ids"][0])
    return [
        SlotSet(QUEUE_SLOT, queue),
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_action", NEXT_ORDER),
    ]


def question_opened(events: list[EventType]) -> bool:
    """Whether ``events`` leave a yes/no question open (which then comes first)."""
    return any(
        event.get("event") == "slot"
        and event.get("name") == "awaiting_confirmation"
        and event.get("value") is True
        for event in events
    )


async def start_next(ctx: TaskContext) -> list[EventType]:
    """Starts the queued task on the next order: the order form asks what it still needs."""
    queue = ctx.tracker.get_slot(QUEUE_SLOT)
    if not isinstance(queue, dict) or not queue.get("order_ids"):
        ctx.reply("utter_anything_else")
        return [SlotSet(QUEUE_SLOT, None)]
    order_id, *rest = queue["order_ids"]
    order = await ctx.shop.get_order(order_id)
    return [
        SlotSet("task", queue["task"]),
        SlotSet("order_id", order_id),
        SlotSet("order_status", order["status"]),
        # Named by the customer in the message that listed both.
        SlotSet("order_confirmed", True),
        SlotSet("reason", None),
        SlotSet("order_id_attempts", 0),
        SlotSet(QUEUE_SLOT, {"task": queue["task"], "order_ids": rest} if rest else None),
        FollowupAction("order_form"),
    ]
