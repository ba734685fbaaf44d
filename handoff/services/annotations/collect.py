"""Filling the trainers' queue from what the service already receives.

Each ``on_*`` function runs inside the caller's transaction, so an item lands
in the queue exactly when the message, hand-off, flag, rating or feedback
that put it there is stored. A message is one item however many reasons it
has; near-duplicates join the group of an unlabelled item with the same or a
similar normalised wording.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import NotFound
from handoff.models import (
    AnnotationItem,
    AnnotationStatus,
    HandoffRecord,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services.annotations.normalize import closest, normalize
from handoff.services.annotations.reasons import (
    Prediction,
    Reason,
    number,
    read_ranking,
    stored_prediction,
)

logger = logging.getLogger(__name__)

REPEATED_MISUNDERSTANDING_TURNS = 2
LOW_CSAT = 2
LOW_CSAT_TURNS = 20
GROUP_CANDIDATES = 5000
TS_TOLERANCE = 1e-3


def _usable(text: str | None) -> bool:
    # Button payloads ("/request_refund") are not the customer's words.
    return bool(text and text.strip()) and not (text or "").lstrip().startswith("/")


async def add_item(
    session: AsyncSession,
    *,
    conversation_id: str,
    reason: Reason,
    message: Message | None = None,
    text: str | None = None,
    prediction: Prediction | None = None,
    agent_intent: str | None = None,
) -> AnnotationItem | None:
    """Puts a message in the queue for ``reason`` (or adds the reason to its item).

    Returns:
        The item, or ``None`` when there is no text worth labelling.
    """
    text = message.text if message is not None else text
    if not _usable(text):
        return None
    assert text is not None
    existing = await session.scalar(
        select(AnnotationItem).where(AnnotationItem.message_id == message.id)
        if message is not None
        else select(AnnotationItem).where(
            AnnotationItem.conversation_id == conversation_id,
            AnnotationItem.message_id.is_(None),
            AnnotationItem.text == text,
        )
    )
    if existing is not None:
        if reason.value not in existing.reasons:
            existing.reasons = [*existing.reasons, reason.value]
        if agent_intent:
            existing.agent_intent = agent_intent
        existing.seen_at = utcnow()
        return existing
    normalized = normalize(text)
    if not normalized:
        return None
    if prediction is None:
        prediction = stored_prediction(message) if message is not None else Prediction()
    item = AnnotationItem(
        conversation_id=conversation_id,
        message_id=message.id if message is not None else None,
        text=text,
        normalized=normalized,
        predicted_intent=prediction.intent,
        confidence=prediction.confidence,
        intent_2=prediction.intent_2,
        confidence_2=prediction.confidence_2,
        reason=reason.value,
        reasons=[reason.value],
        agent_intent=agent_intent,
        status=AnnotationStatus.NEW,
        entities=[],
    )
    item.group_id = await _group_for(session, normalized)
    session.add(item)
    await session.flush()
    if item.group_id is None:
        item.group_id = item.id
        await session.flush()
    return item


async def _group_for(session: AsyncSession, normalized: str) -> int | None:
    exact = await session.scalar(
        select(AnnotationItem.group_id)
        .where(
            AnnotationItem.status == AnnotationStatus.NEW,
            AnnotationItem.normalized == normalized,
            AnnotationItem.group_id.is_not(None),
        )
        .limit(1)
    )
    if exact is not None:
        return exact
    rows = (
        await session.execute(
            select(AnnotationItem.group_id, AnnotationItem.normalized)
            .where(
                AnnotationItem.status == AnnotationStatus.NEW,
                AnnotationItem.group_id.is_not(None),
            )
            .order_by(AnnotationItem.id.desc())
            .limit(GROUP_CANDIDATES)
        )
    ).tuples()
    return closest(normalized, ((group, wording) for group, wording in rows if group is not None))


# -- the sources ----------------------------------------------------------------------------


async def on_customer_message(
    session: AsyncSession, message: Message, ranking: list[dict[str, Any]]
) -> AnnotationItem | None:
    """A customer message from the event broker: queued when the NLU fell back or hesitated."""
    prediction, reasons = read_ranking(ranking)
    item = None
    for reason in reasons:
        item = await add_item(
            session,
            conversation_id=message.conversation_id,
            reason=reason,
            message=message,
            prediction=prediction,
        )
    return item


async def on_repeated_misunderstanding(
    session: AsyncSession, conversation_id: str, intents: list[dict[str, Any]] | None = None
) -> list[AnnotationItem]:
    """A hand-off for repeated misunderstanding: the customer messages that led to it."""
    since = await _previous_episode_end(session, conversation_id, before=None)
    query = select(Message).where(
        Message.conversation_id == conversation_id, Message.role == MessageRole.CUSTOMER
    )
    if since is not None:
        query = query.where(Message.created_at > since)
    recent = list(
        await session.scalars(
            query.order_by(Message.created_at.desc(), Message.id.desc()).limit(
                REPEATED_MISUNDERSTANDING_TURNS
            )
        )
    )
    known = {str(entry.get("text")): entry for entry in intents or [] if isinstance(entry, dict)}
    items = []
    for message in reversed(recent):
        prediction = None
        if message.intent is None and message.text in known:
            entry = known[message.text]
            prediction = Prediction(
                intent=entry.get("intent"), confidence=number(entry.get("confidence"))
            )
        item = await add_item(
            session,
            conversation_id=conversation_id,
            reason=Reason.REPEATED_MISUNDERSTANDING,
            message=message,
            prediction=prediction,
        )
        if item is not None:
            items.append(item)
    return items


async def on_flag(
    session: AsyncSession, *, conversation_id: str, customer_message_id: int | None, intent: str
) -> AnnotationItem | None:
    """An agent flagged a bot turn: the customer message it answered, with the agent's intent."""
    if customer_message_id is None:
        return None
    message = await session.get(Message, customer_message_id)
    if message is None:
        return None
    return await add_item(
        session,
        conversation_id=conversation_id,
        reason=Reason.AGENT_FLAG,
        message=message,
        agent_intent=intent,
    )


async def on_rating(
    session: AsyncSession, conversation_id: str, rating: int, episode: HandoffRecord | None
) -> list[AnnotationItem]:
    """A CSAT of 1–2: the customer turns the bot answered before the rated hand-off."""
    if rating > LOW_CSAT:
        return []
    until = episode.started_at if episode is not None else None
    since = await _previous_episode_end(session, conversation_id, before=until)
    query = select(Message).where(
        Message.conversation_id == conversation_id,
        Message.role.in_((MessageRole.CUSTOMER, MessageRole.BOT, MessageRole.AGENT)),
        Message.private.is_(False),
    )
    if since is not None:
        query = query.where(Message.created_at > since)
    if until is not None:
        query = query.where(Message.created_at <= until)
    turns = list(await session.scalars(query.order_by(Message.created_at, Message.id)))
    answered = [
        turn
        for turn, reply in itertools.pairwise(turns)
        if turn.role == MessageRole.CUSTOMER and reply.role == MessageRole.BOT
    ]
    items = []
    for message in answered[-LOW_CSAT_TURNS:]:
        item = await add_item(
            session, conversation_id=conversation_id, reason=Reason.LOW_CSAT, message=message
        )
        if item is not None:
            items.append(item)
    return items


async def on_feedback(
    session: AsyncSession,
    *,
    conversation_id: str,
    message_ts: float | None = None,
    text: str | None = None,
) -> AnnotationItem | None:
    """A thumbs-down in the web chat on a bot answer (by its Rasa timestamp or its text).

    The customer message that answer replied to is queued; a ``text`` that
    is the customer's own message is queued as it is.

    Raises:
        NotFound: no such conversation, or nothing in it matches.
    """
    target: Message | None = None
    if message_ts is not None:
        target = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.rasa_ts.between(message_ts - TS_TOLERANCE, message_ts + TS_TOLERANCE),
                Message.role.in_((MessageRole.BOT, MessageRole.CUSTOMER)),
            )
            .order_by(Message.role)  # bot before customer
            .limit(1)
        )
    elif text:
        target = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.text == text,
                Message.role.in_((MessageRole.BOT, MessageRole.CUSTOMER)),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    if target is None:
        raise NotFound(f"no such message in {conversation_id!r}")
    customer = target if target.role == MessageRole.CUSTOMER else await _answered(session, target)
    if customer is None:
        raise NotFound("that bot turn answered no customer message")
    return await add_item(
        session, conversation_id=conversation_id, reason=Reason.THUMBS_DOWN, message=customer
    )


async def _answered(session: AsyncSession, bot_turn: Message) -> Message | None:
    return await session.scalar(
        select(Message)
        .where(
            Message.conversation_id == bot_turn.conversation_id,
            Message.role == MessageRole.CUSTOMER,
            Message.created_at <= bot_turn.created_at,
            Message.id != bot_turn.id,
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )


async def _previous_episode_end(
    session: AsyncSession, conversation_id: str, *, before: datetime | None
) -> datetime | None:
    query = select(HandoffRecord.ended_at).where(
        HandoffRecord.conversation_id == conversation_id, HandoffRecord.ended_at.is_not(None)
    )
    if before is not None:
        query = query.where(HandoffRecord.ended_at < before)
    return await session.scalar(query.order_by(HandoffRecord.ended_at.desc()).limit(1))
