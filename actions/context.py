"""What every order task needs: the conversation, the shop and the language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.shop_client import Json, ShopClient
from actions.wording import ORDER_STATUS, say

# Orders whose address can change and that can still be cancelled.
EDITABLE_STATUSES = frozenset({"pending_payment", "paid"})
SHIPPED_STATUSES = frozenset({"shipped", "delivered", "completed"})
AFTER_SALES_TASKS = {
    "refund": "refund",
    "return": "return",
    "exchange": "exchange",
    "repair": "repair",
}
TASK_INTENTS = frozenset(
    {
        "check_order_status",
        "track_shipment",
        "cancel_order",
        "change_address",
        "urge_shipment",
        "request_refund",
        "request_return",
        "request_exchange",
        "report_defect",
        "check_refund_progress",
    }
)
_LATEST_SCANS = 3


@dataclass
class TaskContext:
    """One run of an order task.

    Attributes:
        dispatcher: Where replies go.
        tracker: The conversation.
        shop: The shop client for this run.
    """

    dispatcher: CollectingDispatcher
    tracker: Tracker
    shop: ShopClient

    @property
    def language(self) -> str | None:
        """The customer's language (``language`` slot)."""
        return self.tracker.get_slot("language")

    def reply(self, response: str, **values: Any) -> None:
        """Sends a domain response, filled with ``values``."""
        self.dispatcher.utter_message(response=response, **values)

    def status_label(self, order: Json) -> str:
        """The order's status in the customer's language."""
        return say(ORDER_STATUS, order["status"], self.language)


def describe_items(order: Json) -> str:
    """ "空气炸锅 4L ×1、台灯 ×2" — the items as one line."""
    return "、".join(f"{item['name']} ×{item['quantity']}" for item in order.get("items", []))


def describe_total(order: Json) -> str:
    """ "299.00 CNY"."""
    return f"{order['total']} {order.get('currency', '')}".strip()


def describe_scans(order: Json) -> str:
    """The latest shipping scans, newest first, one per line."""
    events = (order.get("shipping") or {}).get("events") or []
    latest = sorted(events, key=lambda event: event.get("time", ""), reverse=True)
    lines = []
    for event in latest[:_LATEST_SCANS]:
        when = str(event.get("time", ""))[:16].replace("T", " ")
        lines.append(f"{when} {event.get('location', '')} {event.get('description', '')}".strip())
    return "\n".join(lines)
