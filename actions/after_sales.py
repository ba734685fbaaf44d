"""After-sales tasks: opening refund, return, exchange and repair cases, and their progress."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.case_history import (
    CASE_FOLLOWUP_SLOT,
    CASE_OPENED_SLOT,
    OPEN_CASE_STATUSES,
    opened_here,
)
from actions.context import AFTER_SALES_TASKS, TaskContext, describe_items
from actions.eligibility import explain_ineligible
from actions.shop_client import Conflict, Json, NotFound
from actions.wording import CASE_STATUS, CASE_TYPE, say
from bot.common.eligibility import Verdict, case_verdict

_CASES_SHOWN = 3


async def open_case(ctx: TaskContext, order: Json) -> list[EventType]:
    """Opens the case the task asks for and repeats what was filed.

    The order's status is checked against the eligibility table first; the
    shop's refusal (409, or 422 from a shop that answers so) is the last
    line of defence, explained the same way.
    """
    case_type = AFTER_SALES_TASKS[ctx.tracker.get_slot("task")]
    verdict = case_verdict(order["status"], case_type)
    if verdict is not Verdict.ELIGIBLE:
        return await explain_ineligible(ctx, order, case_type, verdict)
    reason = ctx.tracker.get_slot("reason") or "-"
    existing = await _open_case_from_here(ctx, order["order_id"], case_type)
    if existing is not None:
        return _add_to_case(ctx, existing, reason)
    try:
        case = await ctx.shop.create_case(
            order_id=order["order_id"], case_type=case_type, reason=reason
        )
    except Conflict as refusal:
        # The order moved on since we looked, or a refund is already open.
        now = {**order, "status": refusal.status or order["status"]}
        return await explain_ineligible(ctx, now, case_type, case_verdict(now["status"], case_type))
    ctx.reply(
        "utter_case_created",
        order_id=order["order_id"],
        items=describe_items(order) or "-",
        case_id=case["case_id"],
        case_type=say(CASE_TYPE, case_type, ctx.language),
        reason=case.get("reason") or reason,
    )
    # The event broker carries this to the handoff service: after-sales cases by type.
    opened = {"case_id": case["case_id"], "case_type": case_type, "order_id": order["order_id"]}
    return [SlotSet(CASE_OPENED_SLOT, opened)]


async def _open_case_from_here(ctx: TaskContext, order_id: str, case_type: str) -> Json | None:
    """A case of this order and type that this conversation opened and the shop still handles."""
    for case_id in opened_here(ctx.tracker, order_id, case_type):
        try:
            case = await ctx.shop.get_case(case_id)
        except NotFound:
            continue
        if case.get("status") in OPEN_CASE_STATUSES:
            return case
    return None


def _add_to_case(ctx: TaskContext, case: Json, detail: str) -> list[EventType]:
    """One case per problem: the detail joins the open case instead of opening another.

    The shop contract only creates cases, so the detail is recorded in the
    conversation (the ``case_followup`` slot, which the event broker carries
    to the handoff service with the rest of the conversation), and the
    customer hears that the case exists, with its id.
    """
    ctx.reply(
        "utter_case_exists",
        order_id=case["order_id"],
        case_type=say(CASE_TYPE, case["type"], ctx.language),
        case_id=case["case_id"],
        detail=detail,
    )
    followup = {
        "case_id": case["case_id"],
        "case_type": case["type"],
        "order_id": case["order_id"],
        "detail": detail,
    }
    return [SlotSet(CASE_FOLLOWUP_SLOT, followup)]


def _tell_case(ctx: TaskContext, case: Json) -> None:
    ctx.reply(
        "utter_case_status",
        case_id=case["case_id"],
        order_id=case["order_id"],
        case_type=say(CASE_TYPE, case["type"], ctx.language),
        case_status=say(CASE_STATUS, case["status"], ctx.language),
        updated_at=str(case.get("updated_at") or case.get("created_at") or "")[:16].replace(
            "T", " "
        ),
    )


async def case_progress(ctx: TaskContext, case_id: str) -> list[EventType]:
    """Tells the state of one case, by its number."""
    try:
        case = await ctx.shop.get_case(case_id)
    except NotFound:
        ctx.reply("utter_case_not_found", case_id=case_id)
        return []
    _tell_case(ctx, case)
    return []


async def order_cases_progress(ctx: TaskContext, order: Json) -> list[EventType]:
    """Tells the state of an order's cases, newest first."""
    cases = await ctx.shop.list_cases(order["order_id"])
    if not cases:
        ctx.reply("utter_no_cases", order_id=order["order_id"])
        return []
    newest = sorted(cases, key=lambda case: case.get("created_at", ""), reverse=True)
    for case in newest[:_CASES_SHOWN]:
        _tell_case(ctx, case)
    return []
