"""Order tasks: status, tracking, cancellation, address change, urging."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.context import (
    EDITABLE_STATUSES,
    TaskContext,
    describe_items,
    describe_scans,
    describe_total,
)
from actions.shop_client import Conflict, Json
from actions.wording import carrier_name


def ask_to_confirm(action: str) -> list[EventType]:
    """Opens a yes/no question about ``action``; the answer goes to action_confirm_pending."""
    return [SlotSet("awaiting_confirmation", True), SlotSet("pending_action", action)]


async def order_status(ctx: TaskContext, order: Json) -> list[EventType]:
    """Tells the order's status, items and total."""
    ctx.reply(
        "utter_order_status",
        order_id=order["order_id"],
        status=ctx.status_label(order),
        items=describe_items(order),
        total=describe_total(order),
    )
    return []


async def track(ctx: TaskContext, order: Json) -> list[EventType]:
    """Tells carrier, tracking number, ETA and latest scans, or that it has not shipped."""
    shipping = order.get("shipping") or {}
    if order["status"] == "cancelled":
        ctx.reply("utter_already_cancelled", order_id=order["order_id"])
    elif shipping.get("tracking_no"):
        ctx.reply(
            "utter_tracking",
            order_id=order["order_id"],
            carrier=carrier_name(shipping.get("carrier") or "-", ctx.language),
            tracking_no=shipping["tracking_no"],
            eta=shipping.get("eta") or "-",
            events=describe_scans(order) or "-",
        )
    else:
        ctx.reply("utter_not_shipped", order_id=order["order_id"], status=ctx.status_label(order))
    return []


async def cancel(ctx: TaskContext, order: Json) -> list[EventType]:
    """Asks to confirm a cancellation, or says why it cannot be done."""
    if order["status"] == "cancelled":
        ctx.reply("utter_already_cancelled", order_id=order["order_id"])
        return []
    if order["status"] not in EDITABLE_STATUSES:
        ctx.reply(
            "utter_cancel_refused", order_id=order["order_id"], status=ctx.status_label(order)
        )
        return []
    ctx.reply("utter_confirm_cancel", order_id=order["order_id"], items=describe_items(order))
    return ask_to_confirm("cancel")


async def change_address(ctx: TaskContext, order: Json) -> list[EventType]:
    """Asks to confirm the new address, or says why it cannot change."""
    if order["status"] == "cancelled":
        ctx.reply("utter_already_cancelled", order_id=order["order_id"])
        return []
    if order["status"] not in EDITABLE_STATUSES:
        ctx.reply(
            "utter_address_locked", order_id=order["order_id"], status=ctx.status_label(order)
        )
        return []
    new_address = ctx.tracker.get_slot("new_address")
    if not new_address:
        # The shop came back after the form skipped the question.
        ctx.reply("utter_ask_new_address")
        return []
    ctx.reply("utter_confirm_address", order_id=order["order_id"], new_address=new_address)
    return ask_to_confirm("change_address")


async def urge(ctx: TaskContext, order: Json) -> list[EventType]:
    """Asks the warehouse to hurry a paid order."""
    status = order["status"]
    if status == "pending_payment":
        ctx.reply("utter_urge_unpaid", order_id=order["order_id"])
    elif status == "cancelled":
        ctx.reply("utter_already_cancelled", order_id=order["order_id"])
    elif status == "paid":
        await ctx.shop.urge_shipment(order["order_id"])
        ctx.reply("utter_urged", order_id=order["order_id"])
    else:
        ctx.reply("utter_urge_already_shipped", order_id=order["order_id"])
        return await track(ctx, order)
    return []


async def confirm_cancel(ctx: TaskContext, order_id: str) -> None:
    """Cancels after the customer said yes; the shop has the last word."""
    try:
        await ctx.shop.cancel_order(order_id)
    except Conflict as refusal:
        order = {"order_id": order_id, "status": refusal.status or "shipped"}
        if order["status"] == "cancelled":
            ctx.reply("utter_already_cancelled", order_id=order_id)
        else:
            ctx.reply("utter_cancel_refused", order_id=order_id, status=ctx.status_label(order))
        return
    ctx.reply("utter_cancelled", order_id=order_id)


async def confirm_address(ctx: TaskContext, order_id: str) -> None:
    """Changes the address after the customer said yes."""
    new_address = ctx.tracker.get_slot("new_address") or ""
    try:
        await ctx.shop.change_address(order_id, new_address)
    except Conflict as refusal:
        order = {"order_id": order_id, "status": refusal.status or "shipped"}
        ctx.reply("utter_address_locked", order_id=order_id, status=ctx.status_label(order))
        return
    ctx.reply("utter_address_changed", order_id=order_id, new_address=new_address)
