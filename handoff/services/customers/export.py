"""Everything held about one customer, as plain values (``GET /api/customers/{id}/export``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import NotFound
from handoff.models import (
    AfterSalesCase,
    AnnotationHistory,
    AnnotationItem,
    Base,
    Conversation,
    CsatRating,
    DeadLetter,
    Flag,
    HandoffRecord,
    Message,
    SlackThread,
    utcnow,
)
from handoff.tracker_store import TrackerStore


def _row(obj: Base) -> dict[str, Any]:
    """Every column of a row; timestamps as ISO 8601."""
    values: dict[str, Any] = {}
    for column in inspect(type(obj)).column_attrs:
        value = getattr(obj, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


async def export_customer(
    session: AsyncSession, conversation_id: str, tracker_store: TrackerStore
) -> dict[str, Any]:
    """The inbox record, messages, notes, hand-offs, CSAT, cases, the trainers' queue
    (items and the trainers' actions on them), flags, the Slack thread, dead letters
    and Rasa's tracker events of one customer.

    Raises:
        NotFound: neither the service's database nor the tracker store holds anything.
    """
    cid = conversation_id
    conversation = await session.get(Conversation, cid)
    tracker_events = await tracker_store.events(cid)
    if conversation is None and not tracker_events:
        raise NotFound(f"nothing is held about {cid!r}")

    async def rows(statement: Any) -> list[dict[str, Any]]:
        return [_row(obj) for obj in await session.scalars(statement)]

    annotations = await rows(
        select(AnnotationItem)
        .where(
            or_(
                AnnotationItem.conversation_id == cid,
                AnnotationItem.message_id.in_(
                    select(Message.id).where(Message.conversation_id == cid)
                ),
            )
        )
        .order_by(AnnotationItem.id)
    )
    item_ids = {item["id"] for item in annotations}
    history = [
        _row(entry)
        for entry in await session.scalars(select(AnnotationHistory).order_by(AnnotationHistory.id))
        if item_ids.intersection(entry.item_ids or [])
    ]
    messages = await rows(
        select(Message).where(Message.conversation_id == cid).order_by(Message.id)
    )
    own_messages = select(Message.id).where(Message.conversation_id == cid)
    return {
        "conversation_id": cid,
        "exported_at": utcnow().isoformat(),
        "conversation": _row(conversation) if conversation is not None else None,
        "messages": [m for m in messages if not m["private"]],
        "notes": [m for m in messages if m["private"]],
        "handoffs": await rows(
            select(HandoffRecord)
            .where(HandoffRecord.conversation_id == cid)
            .order_by(HandoffRecord.id)
        ),
        "csat": await rows(
            select(CsatRating).where(CsatRating.conversation_id == cid).order_by(CsatRating.id)
        ),
        "cases": await rows(
            select(AfterSalesCase)
            .where(AfterSalesCase.conversation_id == cid)
            .order_by(AfterSalesCase.opened_at)
        ),
        "annotations": annotations,
        "annotation_history": history,
        "flags": await rows(
            select(Flag)
            .where(or_(Flag.conversation_id == cid, Flag.customer_message_id.in_(own_messages)))
            .order_by(Flag.id)
        ),
        "slack_threads": await rows(select(SlackThread).where(SlackThread.conversation_id == cid)),
        "dead_letters": await rows(
            select(DeadLetter).where(DeadLetter.conversation_id == cid).order_by(DeadLetter.id)
        ),
        "tracker_events": tracker_events,
    }
