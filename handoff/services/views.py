"""Read-only views of conversations in the exact shapes of the inbox API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import (
    Agent,
    Conversation,
    ConversationStatus,
    CsatRating,
    Flag,
    HandoffRecord,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services.privacy.mask import mask_slots, mask_text, mask_value


class LastMessage(NamedTuple):
    """The columns of a conversation's newest message that the list shows."""

    conversation_id: str
    role: MessageRole
    text: str | None
    created_at: datetime


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes; they are UTC too)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def aware(moment: datetime) -> datetime:
    """``moment`` with its UTC zone restored when the database dropped it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def agent_json(agent: Agent) -> dict[str, Any]:
    """The ``/api/me`` shape."""
    return {
        "username": agent.username,
        "role": agent.role.value,
        "skills": agent.skills or [],
        "online": agent.online,
        "capacity": agent.capacity,
    }


def message_json(
    message: Message, flag: Flag | None = None, *, masked: bool = True
) -> dict[str, Any]:
    """One transcript line; the text is data, never markup.

    ``masked``: personal data in the text is masked (``138****5678``); only
    ``POST /api/conversations/{id}/reveal`` asks for it unmasked.

    ``activity`` is ``{"kind", ...params}`` on activity lines (the inbox translates it);
    ``flag`` is the newest flag of a bot turn an agent marked misunderstood.
    """
    return {
        "id": message.id,
        "role": message.role.value,
        "text": mask_text(message.text) if masked else message.text,
        "agent": message.agent.username if message.agent else None,
        "private": message.private,
        "intent": message.intent,
        "confidence": message.confidence,
        "created_at": iso(message.created_at),
        "buttons": message.buttons,
        "delivery": message.delivery,
        "error": message.error,
        "activity": message.activity,
        "flag": None if flag is None else {"intent": flag.intent, "status": flag.status},
    }


def _as_is(text: str | None) -> str | None:
    return text


def is_late(
    status: ConversationStatus, waiting_since: datetime | None, wait_alert_s: int, now: datetime
) -> bool:
    """A pending conversation waiting longer than the alert threshold."""
    return (
        status == ConversationStatus.PENDING
        and waiting_since is not None
        and now - aware(waiting_since) > timedelta(seconds=wait_alert_s)
    )


def flagged_wait(conversation: Conversation, wait_alert_s: int, now: datetime) -> bool:
    """``is_late`` of a loaded conversation."""
    return is_late(conversation.status, conversation.waiting_since, wait_alert_s, now)


def conversation_json(
    conversation: Conversation,
    last: Message | LastMessage | None,
    *,
    wait_alert_s: int,
    now: datetime | None = None,
    masked: bool = True,
) -> dict[str, Any]:
    """The list shape of a conversation (summary and last message masked unless not ``masked``)."""
    show = mask_text if masked else _as_is
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "status": conversation.status.value,
        "reason": conversation.reason,
        "team": conversation.team,
        "urgent": conversation.urgent,
        "assignee": conversation.assignee.username if conversation.assignee else None,
        "language": conversation.language,
        "summary": show(conversation.summary),
        "waiting_since": iso(conversation.waiting_since),
        "flagged_wait": flagged_wait(conversation, wait_alert_s, now or utcnow()),
        "last_message": None
        if last is None
        else {
            "role": last.role.value,
            "text": show(last.text),
            "created_at": iso(last.created_at),
        },
        "unread": conversation.unread,
        "csat_pending": conversation.csat_pending,
    }


async def last_messages(session: AsyncSession, ids: list[str]) -> dict[str, LastMessage]:
    """The newest public message of each conversation.

    One correlated ``ORDER BY id DESC LIMIT 1`` per conversation, answered from
    ``ix_messages_conversation_id`` by a short backward index scan: the cost
    does not grow with the length of the conversations.
    """
    if not ids:
        return {}
    newest = (
        select(Message.id)
        .where(
            Message.conversation_id == Conversation.id,
            Message.private.is_(False),
            Message.role != MessageRole.ACTIVITY,
        )
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    chosen = select(newest).where(Conversation.id.in_(ids))
    # Plain columns, not ORM objects: the list needs three fields of up to 500 rows.
    rows = await session.execute(
        select(Message.conversation_id, Message.role, Message.text, Message.created_at).where(
            Message.id.in_(chosen)
        )
    )
    return {row.conversation_id: LastMessage(*row) for row in rows}


async def history(session: AsyncSession, conversation: Conversation) -> dict[str, Any]:
    """Earlier handoff episodes of this customer, their CSAT and open after-sales cases."""
    episodes = list(
        await session.scalars(
            select(HandoffRecord)
            .where(HandoffRecord.conversation_id == conversation.id)
            .order_by(HandoffRecord.started_at.desc())
            .limit(20)
        )
    )
    ratings = list(
        await session.scalars(
            select(CsatRating).where(CsatRating.conversation_id == conversation.id)
        )
    )
    by_episode = {rating.handoff_id: rating.rating for rating in ratings}
    return {
        "conversations": [
            {
                "id": episode.id,
                "status": episode.outcome or "active",
                "created_at": iso(episode.started_at),
                "csat": by_episode.get(episode.id),
            }
            for episode in episodes
            if episode.ended_at is not None
        ],
        "csat_average": (
            round(sum(r.rating for r in ratings) / len(ratings), 2) if ratings else None
        ),
        "after_sales_cases": conversation.context.get("after_sales_cases", []),
    }


async def conversation_detail(
    session: AsyncSession, conversation: Conversation, *, wait_alert_s: int, masked: bool = True
) -> dict[str, Any]:
    """``GET /api/conversations/{id}`` without the shop's order and shipping.

    Personal data in the messages, summary, slots and intents is masked unless
    not ``masked`` (the reveal).
    """
    messages = list(
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.created_at, Message.id)
        )
    )
    public = [m for m in messages if not m.private and m.role != MessageRole.ACTIVITY]
    body = conversation_json(
        conversation, public[-1] if public else None, wait_alert_s=wait_alert_s, masked=masked
    )
    flags: dict[int, Flag] = {}
    for flag in await session.scalars(
        select(Flag).where(Flag.conversation_id == conversation.id).order_by(Flag.id)
    ):
        flags[flag.message_id] = flag  # the newest wins
    context = conversation.context or {}
    body["messages"] = [message_json(m, flags.get(m.id), masked=masked) for m in messages]
    slots = context.get("slots", {})
    intents = context.get("intents", [])
    body["context"] = {
        "reason": conversation.reason,
        "summary": mask_text(conversation.summary) if masked else conversation.summary,
        "slots": mask_slots(slots) if masked and isinstance(slots, dict) else slots,
        "intents": mask_value(intents) if masked else intents,
        "history": await history(session, conversation),
        "order": None,
        "shipping": None,
    }
    return body
