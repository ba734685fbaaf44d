"""Telling the customer why a case cannot be opened on an order, and what to do instead.

The table itself is :mod:`bot.common.eligibility`, shared with the demo shop;
this module only words its verdicts for the customer.
"""

from __future__ import annotations

from rasa_sdk.events import EventType

from actions import orders
from actions.context import TaskContext, describe_items
from actions.shop_client import Json
from actions.wording import CASE_TYPE, say
from bot.common.eligibility import Verdict


async def explain_ineligible(
    ctx: TaskContext, order: Json, case_type: str, verdict: Verdict
) -> list[EventType]:
    """Says why ``order`` cannot get a ``case_type`` case; opens nothing.

    A refund of an unshipped order offers the cancellation; for a parcel on
    its way, the likelier need is where it is, so the tracking follows, and a
    return, exchange or repair then asks: the latest tracking ("查看物流"),
    or asking again once it has arrived ("收到后再申请"). Nothing is opened
    on a guess.
    ``ELIGIBLE`` here means the table allows it but the shop refused for a
    reason of its own (a refund already open): it cannot be done now.
    """
    order_id = order["order_id"]
    status = ctx.status_label(order)
    if verdict is Verdict.CANCEL_INSTEAD:
        ctx.reply(
            "utter_refund_cancel_instead",
            order_id=order_id,
            status=status,
            items=describe_items(order),
        )
        return orders.ask_to_confirm("cancel")
    if verdict is Verdict.IN_TRANSIT:
        ctx.reply("utter_refund_in_transit", order_id=order_id, status=status)
    elif verdict is Verdict.NOT_DELIVERED:
        ctx.reply(
            "utter_case_needs_delivery",
            order_id=order_id,
            status=status,
            case_type=say(CASE_TYPE, case_type, ctx.language),
        )
    else:
        ctx.reply(
            "utter_case_not_eligible",
            order_id=order_id,
            status=status,
            case_type=say(CASE_TYPE, case_type, ctx.language),
        )
        return []
    if order["status"] != "shipped":
        return []
    events = await orders.track(ctx, order)
    if verdict is Verdict.NOT_DELIVERED:
        # A return, exchange or repair of a parcel on its way: the tracking
        # answers the likelier need, and the customer chooses what next
        # (the latest tracking, or asking again once it has arrived).
        ctx.reply("utter_ask_after_delivery", case_type=say(CASE_TYPE, case_type, ctx.language))
        events += orders.ask_to_confirm("track")
    return events
