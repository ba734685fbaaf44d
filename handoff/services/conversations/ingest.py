"""Ingest: the tracker events of Rasa's event broker, stored in order."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.models import (
    AfterSalesCase,
    Conversation,
    ConversationStatus,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services.annotations import collect as trainer_queue
from handoff.services.conversations.hand_off import HandOff, HandoffRequest
from handoff.services.conversations.store import (
    ACTIVE,
    ConversationStore,
    channel_of,
    close_episode,
    from_ts,
)
from handoff.services.conversations.survey import CsatSurvey
from handoff.services.dead_letters import Refusal
from handoff.services.metrics.stamps import stamp_turn
from handoff.services.storable import event_problem
from handoff.services.views import aware

logger = logging.getLogger(__name__)

CASE_OPENED_SLOT = "case_opened"  # actions/after_sales.py sets it: {case_id, case_type, order_id}


class Ingest:
    """Stores customer and bot turns, slots and cases; follows pause and resume.

    Args:
        store: the conversation store.
        hand_off: a ``pause`` from outside the inbox is a hand-off.
        survey: a customer message while the CSAT survey is open answers it.
    """

    def __init__(self, store: ConversationStore, hand_off: HandOff, survey: CsatSurvey) -> None:
        self._store = store
        self._hand_off = hand_off
        self._survey = survey

    async def perform(self, batch: list[Any]) -> tuple[int, list[Refusal]]:
        """Stores the events of Rasa's event broker, in order.

        An event the service cannot store (see :func:`event_problem`, or one the
        database still refuses) is refused alone; the events after it are stored.

        Returns:
            How many events were used, and the refused ones with their reasons.
        """
        used = 0
        refused: list[Refusal] = []
        for event in batch:
            problem = event_problem(event)
            if problem is None:
                sender = event["sender_id"]
                try:
                    used += await self._stored(sender, event)
                except (DataError, UnicodeError, ValueError, OverflowError) as error:
                    logger.exception("the database refused an event of %r", sender)
                    # repr: the message may quote the value (NUL, a surrogate) back.
                    problem = f"not storable: {type(error).__name__}: {str(error)[:300]!r}"
            if problem is not None:
                sender = event.get("sender_id") if isinstance(event, dict) else None
                refused.append(Refusal("event", sender, problem, event))
        return used, refused

    async def _stored(self, sender: str, event: dict[str, Any]) -> int:
        try:
            return await self._one(sender, event)
        except IntegrityError:
            # Another replica stored the same conversation or event first: look again.
            logger.info("concurrent ingest of %s; retrying once", sender)
            return await self._one(sender, event)

    async def _one(self, sender: str, event: dict[str, Any]) -> int:
        kind = event.get("event")
        if kind == "user":
            return await self._user(sender, event)
        if kind == "bot":
            return await self._bot(sender, event)
        if kind == "slot":
            return await self._slot(sender, event)
        if kind == "pause":
            return await self._pause(sender, event)
        if kind == "resume":
            return await self._resume(sender, event)
        return 0

    async def _conversation_for(self, session: AsyncSession, cid: str) -> Conversation:
        conversation = await self._store.load(session, cid)
        if conversation is None:
            conversation = Conversation(
                id=cid, channel=channel_of(cid), context={}, status=ConversationStatus.BOT
            )
            session.add(conversation)
            await session.flush()
        return conversation

    @staticmethod
    async def _seen(session: AsyncSession, cid: str, ts: float, role: MessageRole) -> bool:
        found = await session.scalar(
            select(Message.id).where(
                Message.conversation_id == cid, Message.rasa_ts == ts, Message.role == role
            )
        )
        return found is not None

    async def _user(self, cid: str, event: dict[str, Any]) -> int:
        ts = event.get("timestamp")
        if not isinstance(ts, int | float):
            return 0
        text = event.get("text")
        parse = event.get("parse_data") or {}
        ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, dict)]
        intent = parse.get("intent") or (ranking[0] if ranking else {})
        second = ranking[1] if len(ranking) > 1 else {}
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._conversation_for(session, cid)
                context = dict(conversation.context or {})
                if context.get("replay_pending") is not None and context["replay_pending"] == text:
                    # The connector re-fed a message we already stored (after a CSAT).
                    context.pop("replay_pending")
                    conversation.context = context
                    return 0
                if await self._seen(session, cid, float(ts), MessageRole.CUSTOMER):
                    return 0
                message = Message(
                    conversation_id=cid,
                    role=MessageRole.CUSTOMER,
                    text=text,
                    agent=None,  # known, so the live event need not load it
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    intent_2=second.get("name"),
                    confidence_2=second.get("confidence"),
                    rasa_ts=float(ts),
                    created_at=from_ts(ts),
                )
                session.add(message)
                conversation.last_activity_at = utcnow()
                live = conversation.status in ACTIVE
                if live:
                    conversation.unread += 1
                csat_due = conversation.csat_pending
                await session.flush()
                await stamp_turn(session, message)
                if not csat_due:
                    await trainer_queue.on_customer_message(session, message, ranking or [intent])
            if live or csat_due:
                # From the rows of this session: the new message is the newest one.
                await self._store.publish(events.MESSAGE_CREATED, conversation, message, message)
        if csat_due:
            await self._survey.answer(cid, text if isinstance(text, str) else "")
        return 1

    async def _bot(self, cid: str, event: dict[str, Any]) -> int:
        metadata = event.get("metadata") or {}
        ts = event.get("timestamp")
        if metadata.get("agent") or metadata.get("source") == "handoff":
            return 0  # written by this service; already stored
        if not isinstance(ts, int | float):
            return 0
        data = event.get("data") or {}
        buttons = data.get("buttons") if isinstance(data.get("buttons"), list) else None
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._conversation_for(session, cid)
                if await self._seen(session, cid, float(ts), MessageRole.BOT):
                    return 0
                message = Message(
                    conversation_id=cid,
                    role=MessageRole.BOT,
                    text=event.get("text"),
                    agent=None,  # known, so the live event need not load it
                    buttons=buttons,
                    rasa_ts=float(ts),
                    created_at=from_ts(ts),
                )
                session.add(message)
                conversation.last_activity_at = utcnow()
                live = conversation.status in ACTIVE
                await session.flush()
                await stamp_turn(session, message)
            if live:
                await self._store.publish(events.MESSAGE_CREATED, conversation, message, message)
        return 1

    async def _slot(self, cid: str, event: dict[str, Any]) -> int:
        name = event.get("name")
        if not isinstance(name, str):
            return 0
        async with self._store.locked(cid), self._store.sessions.begin() as session:
            conversation = await self._conversation_for(session, cid)
            context = dict(conversation.context or {})
            context["slots"] = {**context.get("slots", {}), name: event.get("value")}
            conversation.context = context
            if name == "language" and isinstance(event.get("value"), str):
                conversation.language = event["value"]
            if name == CASE_OPENED_SLOT:
                await _record_case(session, cid, event)
        return 1

    async def _pause(self, cid: str, event: dict[str, Any]) -> int:
        ts = from_ts(event.get("timestamp"))
        async with self._store.sessions() as session:
            conversation = await session.get(Conversation, cid)
            if conversation is not None and conversation.status in ACTIVE:
                return 0
            episode = await self._store.episode(session, cid)
            if episode is not None and episode.ended_at and aware(episode.ended_at) >= ts:
                return 0  # a late copy of an earlier episode's pause
            slots = dict((conversation.context or {}).get("slots", {})) if conversation else {}
        reason = slots.get("handoff_reason")
        language = slots.get("language")
        await self._hand_off.perform(
            HandoffRequest(
                conversation_id=cid,
                reason=reason if isinstance(reason, str) else None,
                language=language if isinstance(language, str) else None,
            )
        )
        return 1

    async def _resume(self, cid: str, event: dict[str, Any]) -> int:
        ts = from_ts(event.get("timestamp"))
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.load(session, cid)
                if conversation is None or conversation.status not in ACTIVE:
                    return 0
                episode = await self._store.episode(session, cid)
                if episode is None or aware(episode.started_at) >= ts:
                    return 0  # a resume from before this episode
                close_episode(conversation, episode, "handed_back")
                conversation.status = ConversationStatus.BOT
                self._store.activity(session, conversation, "resumed_outside")
            await self._store.emit(events.HANDED_BACK, cid)
        return 1


async def _record_case(session: AsyncSession, cid: str, event: dict[str, Any]) -> None:
    """Stores an after-sales case once, however often its slot event arrives."""
    value = event.get("value")
    if not isinstance(value, dict):
        return  # the slot cleared, or not a case
    case_id, case_type = value.get("case_id"), value.get("case_type")
    if not (isinstance(case_id, str) and case_id and isinstance(case_type, str) and case_type):
        logger.warning("case_opened slot of %s without case_id and case_type: %r", cid, value)
        return
    case_id = case_id[:64]
    if await session.get(AfterSalesCase, case_id) is not None:
        return
    order_id = value.get("order_id")
    session.add(
        AfterSalesCase(
            case_id=case_id,
            conversation_id=cid,
            case_type=case_type[:32],
            order_id=str(order_id)[:64] if order_id is not None else None,
            opened_at=from_ts(event.get("timestamp")),
        )
    )
