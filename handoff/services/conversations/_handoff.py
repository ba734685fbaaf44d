"""Hand-off into the queue, claims and transfers."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.errors import Conflict, NotFound
from handoff.models import (
    Agent,
    Conversation,
    ConversationStatus,
    HandoffRecord,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services import assignment
from handoff.services.annotations import collect as trainer_queue
from handoff.services.conversations._base import (
    ACTIVE,
    HandoffRequest,
    ServiceBase,
    _from_ts,
    channel_of,
)
from handoff.services.metrics.stamps import stamp_turns
from handoff.services.queue import QueueInfo, queue_info

logger = logging.getLogger(__name__)


class HandoffPart(ServiceBase):
    """Hand-off into the queue, claims and transfers."""

    # -- hand-off ------------------------------------------------------------------------

    async def hand_off(self, request: HandoffRequest) -> QueueInfo:
        """Puts the conversation in the queue (idempotent while it is waiting or open)."""
        cid = request.conversation_id
        now = utcnow()
        async with self._locked(cid):
            async with self._sessions.begin() as session:
                conversation = await self._load(session, cid)
                if conversation is None:
                    conversation = Conversation(
                        id=cid, channel=request.channel or channel_of(cid), context={}
                    )
                    session.add(conversation)
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
                is_new = conversation.status not in ACTIVE
                if is_new:
                    reason = request.reason or "unknown"
                    team = assignment.team_for(reason, request.intent)
                    urgent = assignment.is_urgent(reason)
                    conversation.status = ConversationStatus.PENDING
                    conversation.reason, conversation.team, conversation.urgent = (
                        reason,
                        team,
                        urgent,
                    )
                    conversation.assignee_id = None
                    conversation.waiting_since = now
                    conversation.assigned_at = conversation.resolved_at = None
                    conversation.first_response_at, conversation.first_response_s = None, None
                    conversation.csat_pending = conversation.csat_awaiting_comment = False
                    conversation.wait_alerted = False
                    conversation.unread = 0
                    session.add(
                        HandoffRecord(
                            conversation_id=cid,
                            reason=reason,
                            team=team,
                            urgent=urgent,
                            started_at=now,
                        )
                    )
                    self._activity(session, conversation, "handed_off", reason=reason)
                elif request.reason and conversation.reason == "unknown":
                    conversation.reason = request.reason
                    conversation.team = assignment.team_for(request.reason, request.intent)
                    conversation.urgent = assignment.is_urgent(request.reason)
                conversation.last_activity_at = now
                await session.flush()
                await self._store_transcript(session, conversation, request.transcript)
                if is_new and conversation.reason == trainer_queue.Reason.REPEATED_MISUNDERSTANDING:
                    await trainer_queue.on_repeated_misunderstanding(session, cid, request.intents)
            if is_new:
                await self._emit(events.HANDED_OFF, cid)
            else:
                await self._emit(events.UPDATED, cid)
        await self.auto_assign()
        async with self._sessions() as session:
            fresh = await session.get(Conversation, cid)
            assert fresh is not None
            return await queue_info(session, fresh, self._settings)

    async def _store_transcript(
        self, session: AsyncSession, conversation: Conversation, transcript: list[dict[str, Any]]
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
            role = {"customer": MessageRole.CUSTOMER, "bot": MessageRole.BOT}.get(
                str(turn.get("role"))
            )
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
                    created_at=_from_ts(timestamp),
                )
            )
        session.add_all(added)
        await session.flush()
        await stamp_turns(session, added)

    async def assign(
        self, cid: str, *, actor: Agent, agent: str | None = None, team: str | None = None
    ) -> None:
        """Claims (no target), or transfers to another agent or to a team's queue.

        Raises:
            NotFound: no such conversation or agent.
            Conflict: the conversation is not with people, or someone else holds it.
        """
        kind = events.ASSIGNED
        async with self._locked(cid):
            async with self._sessions.begin() as session:
                conversation = await self._get(session, cid)
                if conversation.status not in ACTIVE:
                    raise Conflict(f"{cid} is not waiting for or with an agent")
                if team is not None:
                    if team not in assignment.TEAMS:
                        raise Conflict(
                            f"unknown team {team!r}; teams: " + ", ".join(assignment.TEAMS)
                        )
                    conversation.team = team
                    conversation.status = ConversationStatus.PENDING
                    conversation.assignee_id = None
                    conversation.waiting_since = utcnow()
                    conversation.wait_alerted = False
                    self._activity(
                        session,
                        conversation,
                        "transferred_to_team",
                        actor,
                        team=team,
                        by=actor.username,
                    )
                    kind = events.UPDATED
                else:
                    target = actor
                    if agent is not None and agent != actor.username:
                        found = await session.scalar(select(Agent).where(Agent.username == agent))
                        if found is None:
                            raise NotFound(f"no agent {agent!r}")
                        target = found
                    elif (
                        conversation.assignee_id not in (None, actor.id)
                        and actor.role.value != "admin"
                    ):
                        raise Conflict(f"{cid} is held by another agent; ask for a transfer")
                    await self._take(session, cid, target)
                    if target is actor:
                        self._activity(
                            session, conversation, "claimed", actor, agent=actor.username
                        )
                    else:
                        self._activity(
                            session,
                            conversation,
                            "transferred_to_agent",
                            actor,
                            agent=target.username,
                            by=actor.username,
                        )
            await self._emit(kind, cid)
        if kind == events.UPDATED:
            await self.auto_assign()
