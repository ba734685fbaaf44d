"""The order form: which order, and what else the task needs.

The form always asks for the order number; a change of address also needs
the new address, and an after-sales case a reason. The number is checked for
format and looked up in the shop; after three bad answers the form gives up
and the customer is offered a human.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.context import AFTER_SALES_TASKS, EDITABLE_STATUSES, TASK_INTENTS
from actions.order_ids import find_case_id, find_order_id
from actions.shop_client import NotFound, ShopClient, ShopError
from bot import settings

MAX_ORDER_ID_ATTEMPTS = 3
_NOT_ELIGIBLE_FOR_AFTER_SALES = ("pending_payment", "cancelled")


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
        task = tracker.get_slot("task")
        if task == "refund_progress" and tracker.get_slot("case_id"):
            return []
        status = tracker.get_slot("order_status")
        slots = ["order_id"]
        if task == "change_address" and status in EDITABLE_STATUSES:
            slots.append("new_address")
        if task in AFTER_SALES_TASKS and status and status not in _NOT_ELIGIBLE_FOR_AFTER_SALES:
            slots.append("reason")
        return slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Validates, after taking what the task's own message already says."""
        hints = _task_hints(tracker)
        # Visible to required_slots() and the validators below.
        tracker.slots.update(hints)
        events = await super().run(dispatcher, tracker, domain)
        return [SlotSet(slot, value) for slot, value in hints.items()] + events

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
        """Any non-empty text will do as a reason."""
        reason = str(value or "").strip()
        return {"reason": reason or None}
