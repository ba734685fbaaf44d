"""The order form's questions that need more than a fixed text.

"Which order?" lists the numbers when the customer gave several at once,
"is it this order?" names the order's items, which only the shop knows, and
"why?" turns into "drop the request?" after an explicit "算了".
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import STOP_ASKED
from actions.context import AFTER_SALES_TASKS, describe_items
from actions.order_ids import find_order_ids
from actions.shop_client import ShopClient, ShopError
from actions.wording import CASE_TYPE, say
from bot import settings

logger = logging.getLogger(__name__)
_MAX_CHOICES = 5


def _button(order_id: str) -> dict[str, str]:
    entities = json.dumps({"order_id": order_id})
    return {"title": order_id, "payload": f"/inform_order_id{entities}"}


class ActionAskOrderId(Action):
    """Asks for the order number, or which one when the message named several."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        named = [] if text.startswith("/") else find_order_ids(text)[:_MAX_CHOICES]
        if len(named) > 1:
            dispatcher.utter_message(
                response="utter_which_order",
                orders="、".join(named),
                buttons=[_button(order_id) for order_id in named],
            )
        else:
            dispatcher.utter_message(response="utter_ask_order_id")
        return []


class ActionAskOrderConfirmed(Action):
    """Asks whether the order carried over from an earlier turn is the one meant."""

    def name(self) -> str:
        return "action_ask_order_confirmed"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        order_id = tracker.get_slot("order_id")
        items = "-"
        try:
            async with ShopClient.from_settings(settings.load()) as shop:
                items = describe_items(await shop.get_order(order_id)) or "-"
        except ShopError:
            # The number alone still lets the customer tell; the task itself
            # reports a shop that is down.
            logger.warning("no items for order %s: the shop did not answer", order_id)
        dispatcher.utter_message(
            response="utter_ask_order_confirmed", order_id=order_id, items=items
        )
        return []


class ActionAskReason(Action):
    """Asks for the reason; after an explicit "算了 / never mind", whether to drop the request.

    Asked once: the answer decides (``validate_order_form``), and a reason
    given instead is simply the reason.
    """

    def name(self) -> str:
        return "action_ask_reason"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        if tracker.get_slot("stop_requested") == STOP_ASKED:
            task = tracker.get_slot("task") or ""
            case_type = AFTER_SALES_TASKS.get(task, task)
            label = say(CASE_TYPE, case_type, tracker.get_slot("language"))
            dispatcher.utter_message(response="utter_ask_stop_request", case_type=label)
        else:
            dispatcher.utter_message(response="utter_ask_reason")
        return []
