"""The order form: which order, and what else the task needs.

The form always asks for the order number; a change of address also needs
the new address, and an after-sales case a reason, asked only when the
order's status allows the case (:mod:`bot.common.eligibility`). The number is
checked for format and looked up in the shop; after three bad answers the
form gives up and the customer is offered a human (sooner when the escalation
ladder says so: two unhelpful turns in a row, :mod:`actions.escalation`). An order carried over
from an earlier turn is confirmed before a task that changes something uses
it, and an identifier given where a reason or an address was asked for is
never stored as one (:mod:`actions.answers`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.answers import (
    STOP_ASKED,
    STOP_CONFIRMED,
    IdentifierAnswer,
    identifier_answer,
    is_explicit_stop,
    keeps_going,
    wants_another_order,
)
from actions.case_history import opened_here
from actions.context import AFTER_SALES_TASKS, EDITABLE_STATUSES, TASK_INTENTS, describe_items
from actions.escalation import offer_due
from actions.order_ids import find_case_id, find_order_id, find_order_ids
from actions.shop_client import Json, NotFound, ShopClient, ShopError
from bot import settings
from bot.common.eligibility import Verdict, case_verdict

MAX_ORDER_ID_ATTEMPTS = 3
# Tasks that change something without a question of their own naming the
# order: an order carried over from an earlier turn is confirmed first.
# (Cancelling asks "确认要取消订单…（…）吗？" anyway; status and tracking only read.)
CONFIRM_CARRIED_OVER = frozenset({*AFTER_SALES_TASKS, "change_address", "urge"})
# Prompts whose answer is free text, where an identifier is not an answer.
_FREE_TEXT_PROMPTS = ("reason", "new_address", "order_confirmed")
_KEEP_GOING = "keep_going"
_SHORT_ANSWER = 8


def _task_hints(tracker: Tracker) -> dict[str, Any]:
    """Slots the customer's message fills beyond the order number.

    A case number answers a refund-progress question without an order, and a
    defect report already says what is wrong: it is the reason.
    """
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return {}
    task = tracker.get_slot("task")
    hints: dict[str, Any] = {}
    if task == "refund_progress":
        case_id = find_case_id(text)
        if case_id:
            hints["case_id"] = case_id
    intent = (message.get("intent") or {}).get("name")
    if intent == "report_defect" and not tracker.get_slot("reason"):
        hints["reason"] = text
    return hints


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


async def _known(shop: ShopClient, order_id: str) -> Json | None:
    """The order, or None when the shop has no order by this number."""
    try:
        return await shop.get_order(order_id)
    except NotFound:
        return None


def _before_this_turn(tracker: Tracker, slot: str) -> str | None:
    """The value ``slot`` had before the latest message."""
    seen_latest_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest_message = True
        elif seen_latest_message and (event.get("event"), event.get("name")) == ("slot", slot):
            value = event.get("value")
            return str(value) if value else None
    return None


def _answer_to_stop_question(tracker: Tracker, text: str) -> str | None:
    """What the answer to "drop this request?" decides, or None when it is a reason.

    Yes (or the stop said again) drops the request; no asks for the reason
    again; anything else is the reason itself.
    """
    if tracker.get_slot("stop_requested") != STOP_ASKED:
        return None
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    # A short yes ("是的", the button); a long text read as yes says why.
    if (intent == "affirm" and len(text) <= _SHORT_ANSWER) or is_explicit_stop(text):
        return STOP_CONFIRMED
    if text == "/deny" or keeps_going(text):
        # The button, "不是", "继续", "no": keep going. Any other text, even
        # one read as deny ("不想要了"), is the reason.
        return _KEEP_GOING
    return None


class ValidateOrderForm(FormValidationAction):
    """Validates the order form's slots and decides which ones it needs."""

    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        """The order number, plus an address or a reason when the task needs one."""
        attempts = tracker.get_slot("order_id_attempts") or 0
        if attempts >= MAX_ORDER_ID_ATTEMPTS:
            return []
        if tracker.get_slot("stop_requested") == STOP_CONFIRMED:
            return []
        task = tracker.get_slot("task")
        if task == "refund_progress" and tracker.get_slot("case_id"):
            return []
        status = tracker.get_slot("order_status")
        slots = ["order_id"]
        if (
            task in CONFIRM_CARRIED_OVER
            and not tracker.get_slot("order_confirmed")
            # A follow-up on the case this conversation just opened for the
            # order ("左键失灵") is about that order: no "is it this order?".
            and not opened_here(tracker, tracker.get_slot("order_id"), AFTER_SALES_TASKS.get(task))
        ):
            slots.append("order_confirmed")
        if task == "change_address" and status in EDITABLE_STATUSES:
            slots.append("new_address")
        if (
            task in AFTER_SALES_TASKS
            and status
            and case_verdict(status, AFTER_SALES_TASKS[task]) is Verdict.ELIGIBLE
        ):
            slots.append("reason")
        return slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Validates, after taking what the task's own message already says.

        An order number in the message the form starts with, or in the
        answer to "which order?", needs no confirmation; more than one asks
        which (see ``action_ask_order_id``). An identifier where free text
        was asked for is handled by :meth:`_identifier_given`.
        """
        hints = _task_hints(tracker)
        asked = tracker.get_slot("requested_slot")
        text = _latest_text(tracker)
        named = find_order_ids(text)
        answer = identifier_answer(text) if asked in _FREE_TEXT_PROMPTS else None
        stop_answer = _answer_to_stop_question(tracker, text) if asked == "reason" else None
        if stop_answer is not None:
            # "Drop this request?" answered yes or no: neither is the reason.
            dropped = stop_answer == STOP_CONFIRMED
            hints |= {"reason": None, "stop_requested": STOP_CONFIRMED if dropped else None}
        elif answer is not None:
            hints.pop("reason", None)  # an identifier describes nothing
            hints |= await self._identifier_given(answer, dispatcher, tracker)
        elif asked == "order_confirmed" and wants_another_order(text):
            hints |= {"order_id": None, "order_status": None, "order_confirmed": None}
        elif asked in (None, "order_id") and len(named) > 1:
            hints |= {"order_id": None, "order_status": None, "order_confirmed": None}
            # The others are offered in turn once the first one is done.
            hints["order_queue"] = {"task": tracker.get_slot("task"), "order_ids": named}
        else:
            if asked == "reason" and tracker.get_slot("stop_requested"):
                hints["stop_requested"] = None  # free text after "drop it?": the reason
            if asked in (None, "order_id") and named:
                hints["order_confirmed"] = True
            # Visible to required_slots() and the validators below.
            tracker.slots.update(hints)
            validated = await super().run(dispatcher, tracker, domain)
            return [SlotSet(slot, value) for slot, value in hints.items()] + validated
        # The customer's message is not an answer to the question: nothing
        # extracted from it is validated; ask what is still missing.
        tracker.slots.update(hints)
        events: list[EventType] = [SlotSet(slot, value) for slot, value in hints.items()]
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def _identifier_given(
        self, answer: IdentifierAnswer, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """An identifier where a reason, an address or a yes/no was asked for.

        An order number the shop knows switches the task to that order; a
        tracking, phone or case number is not stored and the question is
        asked again.
        """
        asked = tracker.get_slot("requested_slot")
        previous = tracker.get_slot("order_id")
        if "order_id" in tracker.slots_to_validate():
            previous = _before_this_turn(tracker, "order_id")
        # Undo what Rasa took from the message: it is not an answer.
        keep: dict[str, Any] = {"order_id": previous}
        if asked in ("reason", "new_address"):
            keep[asked] = None
        try:
            async with ShopClient.from_settings(settings.load()) as shop:
                found = [await _known(shop, order_id) for order_id in answer.order_ids]
        except ShopError:
            dispatcher.utter_message(response="utter_shop_unavailable")
            return keep
        orders = [order for order in found if order is not None]
        if len(orders) > 1:
            return {**keep, "order_id": None, "order_status": None, "order_confirmed": None}
        if not orders:
            dispatcher.utter_message(response="utter_answer_is_identifier", identifier=answer.first)
            return keep
        order = orders[0]
        if order["order_id"] != previous:
            dispatcher.utter_message(
                response="utter_order_switched",
                order_id=order["order_id"],
                items=describe_items(order),
            )
        return {
            "reason": None,
            "new_address": None,
            "order_id": order["order_id"],
            "order_status": order["status"],
            "order_confirmed": True,
            "order_id_attempts": 0,
        }

    async def validate_order_id(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accepts a well-formed order number the shop knows."""
        asked = tracker.get_slot("requested_slot")
        previous = _before_this_turn(tracker, "order_id")
        if asked not in (None, "order_id") and previous:
            # A number inside an address or a reason (a phone number, say)
            # is not a new order: the form asked about something else.
            return {"order_id": previous}
        order_id = find_order_id(str(value)) if value else None
        if order_id is None:
            intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
            if intent in TASK_INTENTS:
                # The customer changed their mind about the task: ask again.
                return {"order_id": None}
            dispatcher.utter_message(response="utter_order_id_invalid")
            return self._bad_attempt(tracker)
        try:
            async with ShopClient.from_settings(settings.load()) as shop:
                order = await shop.get_order(order_id)
        except NotFound:
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
            return self._bad_attempt(tracker)
        except ShopError:
            # Keep the number; the task reports the outage and offers a human.
            return {"order_id": order_id, "order_status": None, "order_id_attempts": 0}
        return {"order_id": order_id, "order_status": order["status"], "order_id_attempts": 0}

    def _bad_attempt(self, tracker: Tracker) -> dict[str, Any]:
        attempts = (tracker.get_slot("order_id_attempts") or 0) + 1
        if offer_due(tracker):
            # The escalation ladder: this re-ask follows another unhelpful
            # turn, so the form gives up now and a person is offered.
            attempts = max(attempts, MAX_ORDER_ID_ATTEMPTS)
        return {"order_id": None, "order_status": None, "order_id_attempts": attempts}

    async def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """An address is a few characters at least."""
        address = str(value or "").strip()
        if len(address) < 5:
            dispatcher.utter_message(response="utter_ask_new_address")
            return {"new_address": None}
        return {"new_address": address}

    async def validate_reason(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Any non-empty text is a reason, except an explicit "算了 / never mind".

        "不想要了" and "don't need it anymore" are reasons (the commonest);
        an explicit stop is asked about once (``action_ask_reason``) before
        the request is dropped.
        """
        reason = str(value or "").strip()
        if is_explicit_stop(reason):
            return {"reason": None, "stop_requested": STOP_ASKED}
        return {"reason": reason or None}

    async def validate_order_confirmed(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Yes keeps the order; no ("其他订单") asks for the other one."""
        if value:
            return {"order_confirmed": True}
        return {"order_confirmed": None, "order_id": None, "order_status": None}
