"""Erasing one customer: their words and personal data go, anonymous counts stay.

What goes: every text of the conversation (customer, bot and agent turns,
private notes, the hand-off summary and context with its slots, CSAT comments,
delivery errors, buttons), the trainers' queue items and flags made from it
(so the labels export no longer has them) and the examples they gave in the
Rasa side's exported labels (``handoff/exported_labels.py``), its texts in the trainers' undo
history, its Slack thread link, its dead letters, its long-wait alerts, the
order numbers and shop case numbers of its after-sales cases, and every event
of it in Rasa's tracker store.

What stays, under a new random id (``erased:<hex>``) that links to nobody:
the rows the dashboard counts — message rows without text (role, intent,
confidence, times and the session stamps), hand-off episodes, ratings without
comments, after-sales cases by type and date — so every figure that does not
depend on text is the same before and after. ``message_counts`` is anonymous
already.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import Conflict, NotFound
from handoff.exported_labels import ExportedLabels
from handoff.models import (
    AfterSalesCase,
    AnnotationHistory,
    AnnotationItem,
    Conversation,
    ConversationStatus,
    CsatRating,
    DeadLetter,
    Flag,
    HandoffRecord,
    Message,
    MessageRole,
    RaisedAlert,
    SlackThread,
    utcnow,
)
from handoff.tracker_store import TrackerStore

ERASED_PREFIX = "erased:"
# Columns of a conversation that say nothing about the customer, copied to the new id.
_KEPT = (
    "channel",
    "reason",
    "team",
    "urgent",
    "assignee_id",
    "language",
    "waiting_since",
    "assigned_at",
    "resolved_at",
    "first_response_at",
    "first_response_s",
    "wait_alerted",
    "last_activity_at",
    "created_at",
)


@dataclass(frozen=True)
class Erasure:
    """What one erasure removed (counts only, for the answer and the access record)."""

    conversation_id: str
    anonymous_id: str | None
    messages: int
    annotations: int
    tracker_events: int
    exported_labels: int = 0

    def counts(self) -> dict[str, int]:
        """The counts, without ids."""
        return {
            "messages": self.messages,
            "annotations": self.annotations,
            "tracker_events": self.tracker_events,
            "exported_labels": self.exported_labels,
        }


class EraseCustomer:
    """Removes one customer's words and personal data from every store the service reaches.

    Args:
        sessions: the service's session factory.
        tracker_store: Rasa's tracker store.
        labels: the exported labels on the Rasa side.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tracker_store: TrackerStore,
        labels: ExportedLabels,
    ) -> None:
        self._sessions = sessions
        self._tracker_store = tracker_store
        self._labels = labels

    async def perform(self, conversation_id: str) -> Erasure:
        """Erases ``conversation_id`` from the service's database and the Rasa side.

        The conversation's row stays locked throughout, so no agent can claim it
        meanwhile. The Rasa side goes first: when it cannot be reached nothing has
        changed, and when the service's transaction fails after it, a retry finds
        the conversation as it was (with nothing left on the Rasa side).

        Raises:
            NotFound: nothing is held about it.
            Conflict: it is waiting for or held by an agent.
        """
        async with self._sessions.begin() as session:
            conversation = await _locked(session, conversation_id)
            if conversation is not None and conversation.status in (
                ConversationStatus.PENDING,
                ConversationStatus.OPEN,
            ):
                raise Conflict(
                    f"{conversation_id!r} is in human hands; resolve or hand it back first"
                )
            events = await self._tracker_store.erase(conversation_id)
            labels = await self._labels.erase(conversation_id)
            if conversation is None:
                if not events and not labels:
                    raise NotFound(f"nothing is held about {conversation_id!r}")
                return Erasure(conversation_id, None, 0, 0, events, labels)
            anonymous_id, messages, annotations = await _anonymise(session, conversation)
        return Erasure(conversation_id, anonymous_id, messages, annotations, events, labels)


async def _locked(session: AsyncSession, cid: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(Conversation.id == cid).with_for_update(of=Conversation)
    )


async def _anonymise(session: AsyncSession, conversation: Conversation) -> tuple[str, int, int]:
    """Moves the counted rows to a random id without their texts; deletes the rest."""
    cid = conversation.id
    new_id = f"{ERASED_PREFIX}{uuid.uuid4().hex}"
    kept = {name: getattr(conversation, name) for name in _KEPT}
    # Status "bot": out of every inbox list and count (none of the metrics reads it).
    session.add(
        Conversation(
            id=new_id,
            status=ConversationStatus.BOT,
            context={},
            unread=0,
            erased_at=utcnow(),
            **kept,
        )
    )
    await session.flush()

    own_messages = select(Message.id).where(Message.conversation_id == cid)
    await session.execute(
        delete(Flag).where(
            or_(
                Flag.conversation_id == cid,
                Flag.message_id.in_(own_messages),
                Flag.customer_message_id.in_(own_messages),
            )
        )
    )
    items = list(
        (
            await session.execute(
                select(AnnotationItem.id, AnnotationItem.text).where(
                    or_(
                        AnnotationItem.conversation_id == cid,
                        AnnotationItem.message_id.in_(own_messages),
                    )
                )
            )
        ).all()
    )
    await _scrub_history(session, {item_id for item_id, _ in items}, {t for _, t in items})
    if items:
        await session.execute(
            delete(AnnotationItem).where(AnnotationItem.id.in_([i for i, _ in items]))
        )
    moved = await session.scalar(
        select(func.count()).select_from(Message).where(Message.conversation_id == cid)
    )
    await session.execute(
        update(Message)
        .where(Message.conversation_id == cid)
        .values(conversation_id=new_id, buttons=None, error=None)
    )
    await session.execute(
        update(Message)
        .where(Message.conversation_id == new_id, Message.role != MessageRole.ACTIVITY)
        .values(text=None)
    )
    await session.execute(
        update(HandoffRecord)
        .where(HandoffRecord.conversation_id == cid)
        .values(conversation_id=new_id)
    )
    await session.execute(
        update(CsatRating)
        .where(CsatRating.conversation_id == cid)
        .values(conversation_id=new_id, comment=None)
    )
    cases = list(
        await session.scalars(
            select(AfterSalesCase.case_id).where(AfterSalesCase.conversation_id == cid)
        )
    )
    for case_id in cases:
        await session.execute(
            update(AfterSalesCase)
            .where(AfterSalesCase.case_id == case_id)
            .values(case_id=f"erased-{uuid.uuid4().hex}", conversation_id=new_id, order_id=None)
        )
    await session.execute(delete(SlackThread).where(SlackThread.conversation_id == cid))
    await session.execute(delete(DeadLetter).where(DeadLetter.conversation_id == cid))
    await session.execute(
        delete(RaisedAlert).where(RaisedAlert.subject.startswith(f"{cid}@", autoescape=True))
    )
    await session.execute(delete(Conversation).where(Conversation.id == cid))
    return new_id, int(moved or 0), len(items)


async def _scrub_history(session: AsyncSession, item_ids: set[int], texts: set[str]) -> None:
    """Takes the erased items, and their texts, out of the trainers' undo history."""
    if not item_ids:
        return
    for entry in list(await session.scalars(select(AnnotationHistory))):
        touched = item_ids.intersection(entry.item_ids or [])
        if not touched and entry.text not in texts:
            continue
        entry.item_ids = [i for i in entry.item_ids or [] if i not in item_ids]
        entry.previous = [p for p in entry.previous or [] if p.get("id") not in item_ids]
        if entry.text in texts or not entry.item_ids:
            entry.text = None
            entry.entities = []
