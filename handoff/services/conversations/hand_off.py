"""Hand-off: the bot gives a conversation, with its context, to the people's queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.models import (
    Conversation,
    ConversationStatus,
    HandoffRecord,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services import assignment
from handoff.services.annotations import collect as trainer_queue
from handoff.services.annotations.reasons import Reason
from handoff.services.conversations.assign import AutoAssign
from handoff.services.conversations.store import (
    ACTIVE,
    ConversationStore,
    channel_of,
    from_ts,
)
from handoff.services.metrics.stamps import stamp_turns
from handoff.services.wait_estimate import QueueInfo, queue_info
from handoff.settings import Settings


@dataclass
class HandoffRequest:
    """What ``action_handoff`` sends (``POST /api/internal/handoffs``)."""

    conversation_id: str
    channel: str | None = None
    reason: str | None = None
    intent: str | None = None
    language: str | None = None
    summary: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    intents: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    after_sales_cases: list[dict[str, Any]] = field(default_factory=list)
    anger_score: float | None = None


class HandOff:
    """Puts a conversation in the queue with the context the bot collected."""

    def __init__(
        self, store: ConversationStore, auto_assign: AutoAssign, settings: Settings
    ) -> None:
        self._store = store
        self._auto_assign = auto_assign
        self._settings = settings

    async def perform(self, request: HandoffRequest) -> QueueInfo:
        """Queues the conversation (idempotent while it is waiting or open).

        Returns:
            The queue position and expected wait to tell the customer.
        """
        cid = request.conversation_id
        now = utcnow()
        async with self._store.locked(cid):
            async with self._store.sessions.begin() as session:
                conversation = await self._store.load(session, cid)
                if conversation is None:
                    conversation = Conversation(
                        id=cid, channel=request.channel or channel_of(cid), context={}
                    )
                    session.add(conversation)
                _merge_context(conversation, request)
                is_new = conversation.status not in ACTIVE
                if is_new:
                    self._open_episode(session, conversation, request, now)
                elif request.reason and conversation.reason == "unknown":
                    conversation.reason = request.reason
                    conversation.team = assignment.team_for(request.reason, request.intent)
                    conversation.urgent = assignment.is_urgent(request.reason, request.anger_score)
                conversation.last_activity_at = now
                await session.flush()
                await _store_transcript(session, conversation, request.transcript)
                if is_new and conversation.reason == Reason.REPEATED_MISUNDERSTANDING:
                    await trainer_queue.on_repeated_misunderstanding(session, cid, request.intents)
            await self._store.emit(events.HANDED_OFF if is_new else events.UPDATED, cid)
        await self._auto_assign.perform()
        async with self._store.sessions() as session:
            fresh = await session.get(Conversation, cid)
            assert fresh is not None
            return await queue_info(session, fresh, self._settings)

    def _open_episode(
        self,
        session: AsyncSession,
        conversation: Conversation,
        request: HandoffRequest,
        now: datetime,
    ) -> None:
        """Starts a new episode in human hands: pending, routed to a team, timers reset."""
        reason = request.reason or "unknown"
        team = assignment.team_for(reason, request.intent)
        urgent = assignment.is_urgent(reason, request.anger_score)
        conversation.status = ConversationStatus.PENDING
        conversation.reason, conversation.team, conversation.urgent = reason, team, urgent
        conversation.assignee_id = None
        conversation.waiting_since = now
        conversation.assigned_at = conversation.resolved_at = None
        conversation.first_response_at, conversation.first_response_s = None, None
        conversation.csat_pending = conversation.csat_awaiting_comment = False
        conversation.wait_alerted = False
        conversation.unread = 0
        session.add(
            HandoffRecord(
                conversation_id=conversation.id,
                reason=reason,
                team=team,
                urgent=urgent,
                started_at=now,
            )
        )
        self._store.activity(session, conversation, "handed_off", reason=reason)


def _merge_context(conversation: Conversation, request: HandoffRequest) -> None:
    """Slots, recent intents, after-sales cases, language and summary the bot sent."""
    context = dict(conversation.context or {})
    context["slots"] = {**context.get("slots", {}), **request.slots}
    if request.intents:
        context["intents"] = request.intents
    if request.after_sales_cases:
        context["after_sales_cases"] = request.after_sales_cases
    conversation.context = context
    conversation.language = (
        request.language or request.slots.get("language") or conversation.language
    )
    if request.summary:
        conversation.summary = request.summary


async def _store_transcript(
    session: AsyncSession, conversation: Conversation, transcript: list[dict[str, Any]]
) -> None:
    """Adds transcript turns the event broker has not delivered (same Rasa timestamps)."""
    seen = set(
        (
            await session.execute(
                select(Message.rasa_ts, Message.role).where(
                    Message.conversation_id == conversation.id, Message.rasa_ts.is_not(None)
                )
            )
        ).tuples()
    )
    added: list[Message] = []
    for turn in transcript:
        role = {"customer": MessageRole.CUSTOMER, "bot": MessageRole.BOT}.get(str(turn.get("role")))
        timestamp = turn.get("timestamp")
        if role is None or not isinstance(timestamp, int | float):
            continue
        if (float(timestamp), role) in seen:
            continue
        seen.add((float(timestamp), role))
        added.append(
            Message(
                conversation_id=conversation.id,
                role=role,
                text=str(turn.get("text") or ""),
                rasa_ts=float(timestamp),
                created_at=from_ts(timestamp),
            )
        )
    session.add_all(added)
    await session.flush()
    await stamp_turns(session, added)
