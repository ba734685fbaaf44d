"""Running the task the customer asked for, once the order form is complete.

The ``task`` slot (set from the intent) picks what to do with ``order_id``;
changes that cannot be undone (cancel, new address) ask first, and the
customer's yes or no comes back to :class:`ActionConfirmPending` or
:class:`ActionDeclinePending`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import after_sales, order_queue, orders
from actions.answers import STOP_CONFIRMED
from actions.context import AFTER_SALES_TASKS, TaskContext
from actions.handoff import HandoffReason, hand_off, offer_handoff
from actions.shop_client import Json, NotFound, ShopClient, ShopError
from actions.wording import CASE_TYPE, say
from bot import settings

OrderTask = Callable[[TaskContext, Json], Awaitable[list[EventType]]]

ORDER_TASKS: dict[str, OrderTask] = {
    "order_status": orders.order_status,
    "track": orders.track,
    "cancel": orders.cancel,
    "change_address": orders.change_address,
    "urge": orders.urge,
    "refund": after_sales.open_case,
    "return": after_sales.open_case,
    "exchange": after_sales.open_case,
    "repair": after_sales.open_case,
    "refund_progress": after_sales.order_cases_progress,
}

# Slots that belong to one task and must not leak into the next; the new
# address waits for the customer's yes or no (see ActionConfirmPending).
_TASK_SLOTS = ("task", "reason", "case_id", "order_confirmed", "stop_requested")


def _finish_task() -> list[EventType]:
    return [SlotSet(slot, None) for slot in _TASK_SLOTS] + [SlotSet("order_id_attempts", 0)]


def _shop_unavailable(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response="utter_shop_unavailable")
    return offer_handoff(HandoffReason.SHOP_UNAVAILABLE)


async def _run(ctx: TaskContext, task: str | None, order_id: str | None) -> list[EventType]:
    case_id = ctx.tracker.get_slot("case_id")
    if task == "refund_progress" and case_id:
        return await after_sales.case_progress(ctx, case_id)
    if ctx.tracker.get_slot("stop_requested") == STOP_CONFIRMED:
        # "算了", then yes to "drop this request?": nothing is opened.
        case_type = AFTER_SALES_TASKS.get(task or "", task or "")
        ctx.reply("utter_request_dropped", case_type=say(CASE_TYPE, case_type, ctx.language))
        return [SlotSet(order_queue.QUEUE_SLOT, None)]
    if order_id is None:
        # The form gave up after three bad answers.
        ctx.reply("utter_offer_human_after_retries")
        return offer_handoff(HandoffReason.FORM_FAILED)
    if task is None:
        ctx.reply("utter_ask_order_action", order_id=order_id)
        # The customer just named this order: the task they pick next needs
        # no "is it this order?".
        return [SlotSet("order_confirmed", True)]
    try:
        order = await ctx.shop.get_order(order_id)
    except NotFound:
        ctx.reply("utter_order_not_found", order_id=order_id)
        # Keep the task: the customer's next number continues it.
        return [SlotSet("order_id", None), SlotSet("task", task)]
    return [SlotSet("order_status", order["status"])] + await ORDER_TASKS[task](ctx, order)


class ActionRunTask(Action):
    """Does what the customer asked with their order."""

    def name(self) -> str:
        return "action_run_task"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        task = tracker.get_slot("task")
        order_id = tracker.get_slot("order_id")
        try:
            async with ShopClient.from_settings(settings.load()) as shop:
                ctx = TaskContext(dispatcher, tracker, shop)
                events = await _run(ctx, task, order_id)
        except ShopError:
            return _finish_task() + _shop_unavailable(dispatcher)
        if tracker.get_slot("stop_requested") == STOP_CONFIRMED:
            return _finish_task() + events
        # The other orders of a message that named several, in turn; a
        # question the task just asked comes first (the offer follows its answer).
        queue = order_queue.remaining(tracker, task, order_id)
        if order_queue.question_opened(events):
            return _finish_task() + events + [SlotSet(order_queue.QUEUE_SLOT, queue)]
        return _finish_task() + events + order_queue.offer_next(dispatcher, queue)


def _close_question() -> list[EventType]:
    return [SlotSet("awaiting_confirmation", False), SlotSet("pending_action", None)]


class ActionConfirmPending(Action):
    """The customer said yes to the open question."""

    def name(self) -> str:
        return "action_confirm_pending"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_action")
        if pending == "handoff":
            reason = HandoffReason(tracker.get_slot("handoff_reason") or "explicit_request")
            return _close_question() + await hand_off(dispatcher, tracker, reason)
        order_id = tracker.get_slot("order_id")
        events: list[EventType] = []
        try:
            async with ShopClient.from_settings(settings.load()) as shop:
                ctx = TaskContext(dispatcher, tracker, shop)
                if pending == order_queue.NEXT_ORDER:
                    return _close_question() + await order_queue.start_next(ctx)
                if pending == "cancel" and order_id:
                    await orders.confirm_cancel(ctx, order_id)
                elif pending == "change_address" and order_id:
                    await orders.confirm_address(ctx, order_id)
                elif pending == "track" and order_id:
                    await orders.track(ctx, await shop.get_order(order_id))
                else:
                    dispatcher.utter_message(response="utter_anything_else")
                events = _offer_queued(dispatcher, tracker)
        except ShopError:
            return _close_question() + _shop_unavailable(dispatcher)
        return [*_close_question(), SlotSet("new_address", None), *events]


def _offer_queued(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After the answer to a task's own question, the next order the customer named."""
    queue = tracker.get_slot(order_queue.QUEUE_SLOT)
    if not isinstance(queue, dict) or not queue.get("order_ids"):
        return []
    return order_queue.offer_next(dispatcher, queue)


class ActionDeclinePending(Action):
    """The customer said no to the open question."""

    def name(self) -> str:
        return "action_decline_pending"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_action")
        order_id = tracker.get_slot("order_id")
        if pending == order_queue.NEXT_ORDER:
            dispatcher.utter_message(response="utter_anything_else")
            return [*_close_question(), SlotSet(order_queue.QUEUE_SLOT, None)]
        if pending in ("cancel", "change_address") and order_id:
            dispatcher.utter_message(response="utter_change_kept", order_id=order_id)
        elif pending == "track":
            dispatcher.utter_message(response="utter_apply_after_delivery")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        queued = _offer_queued(dispatcher, tracker)
        return [*_close_question(), SlotSet("new_address", None), *queued]
