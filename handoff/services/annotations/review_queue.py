"""The trainers' review queue: groups of near-duplicates, most frequent first, and one in detail."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import NotFound
from handoff.models import AnnotationItem, AnnotationStatus, Message, MessageRole
from handoff.services.annotations.reasons import Reason
from handoff.services.privacy.mask import mask_text, mask_value
from handoff.services.views import iso, message_json

EXAMPLES = 5
CONTEXT_TURNS = 6


@dataclass
class Group:
    """Items of one status sharing a ``group_id``."""

    group_id: int
    items: list[AnnotationItem] = field(default_factory=list)

    @property
    def representative(self) -> AnnotationItem:
        """The oldest item with the most frequent wording."""
        counts = Counter(item.normalized for item in self.items)
        wording = max(counts, key=lambda key: (counts[key], -self._first(key).id))
        return self._first(wording)

    def _first(self, wording: str) -> AnnotationItem:
        return min((i for i in self.items if i.normalized == wording), key=lambda i: i.id)

    @property
    def reasons(self) -> Counter[str]:
        """How many items carry each reason."""
        return Counter(reason for item in self.items for reason in item.reasons)


def _group_items(items: list[AnnotationItem]) -> list[Group]:
    groups: dict[int, Group] = {}
    for item in items:
        key = item.group_id if item.group_id is not None else item.id
        groups.setdefault(key, Group(key)).items.append(item)
    return list(groups.values())


def _masked(text: str) -> str:
    # Trainers never see personal data; the mask keeps the length, so the spans
    # they mark by offsets on this text are offsets on the stored text too.
    return mask_text(text, same_length=True) or text


def group_json(group: Group) -> dict[str, Any]:
    """One row of ``GET /api/annotations`` (a whole group), personal data masked."""
    first = group.representative
    reasons = group.reasons
    wordings = Counter(item.text for item in group.items)
    agent_intents = Counter(item.agent_intent for item in group.items if item.agent_intent)
    return {
        "id": first.id,
        "group_id": group.group_id,
        "text": _masked(first.text),
        "predicted_intent": first.predicted_intent,
        "confidence": first.confidence,
        "second_intent": first.intent_2,
        "second_confidence": first.confidence_2,
        "count": len(group.items),
        "group_size": len(wordings),
        "reason": reasons.most_common(1)[0][0] if reasons else first.reason,
        "reasons": dict(reasons.most_common()),
        "agent_intent": agent_intents.most_common(1)[0][0] if agent_intents else None,
        "examples": [
            {"text": _masked(text), "count": n} for text, n in wordings.most_common(EXAMPLES)
        ],
        "conversation_id": first.conversation_id,
        "message_id": first.message_id,
        "status": first.status.value,
        "label_intent": first.label_intent,
        "entities": mask_value(first.entities or []),
        "labelled_by": first.labeller.username if first.labeller else None,
        "labelled_at": iso(first.labelled_at),
        "last_seen": iso(max(item.seen_at for item in group.items)),
    }


async def list_groups(
    session: AsyncSession, *, status: AnnotationStatus, reason: str | None = None, limit: int = 200
) -> dict[str, Any]:
    """``{"items": [...], "counts": {...}}``: groups, most frequent first; counts per reason."""
    items = list(
        await session.scalars(select(AnnotationItem).where(AnnotationItem.status == status))
    )
    groups = _group_items(items)
    counts: Counter[str] = Counter()
    for group in groups:
        counts.update(set(group.reasons))
    if reason:
        groups = [group for group in groups if reason in group.reasons]
    # Out-of-scope requests alone rank below every fallback, ambiguity, flag or rating.
    groups.sort(
        key=lambda g: (
            set(g.reasons) == {Reason.OUT_OF_SCOPE.value},
            -len(g.items),
            -max(i.seen_at.timestamp() for i in g.items),
        )
    )
    return {
        "items": [group_json(group) for group in groups[:limit]],
        "counts": {"all": len(_group_items(items)), **dict(counts)},
        "total": len(groups),
    }


async def find_item(session: AsyncSession, item_id: int, *, lock: bool = False) -> AnnotationItem:
    """The item; with ``lock``, locked for update.

    Raises:
        NotFound: no such item.
    """
    # FOR UPDATE (PostgreSQL): two trainers labelling one group at once do not both win.
    query = select(AnnotationItem).where(AnnotationItem.id == item_id)
    if lock:
        query = query.with_for_update(of=AnnotationItem)
    item = await session.scalar(query)
    if item is None:
        raise NotFound(f"no annotation item {item_id}")
    return item


async def group_of(session: AsyncSession, item: AnnotationItem) -> Group:
    """The items of the same group and status as ``item``."""
    members = list(
        await session.scalars(
            select(AnnotationItem).where(
                AnnotationItem.group_id == item.group_id, AnnotationItem.status == item.status
            )
        )
    )
    return Group(item.group_id or item.id, members or [item])


async def detail(session: AsyncSession, item_id: int) -> dict[str, Any]:
    """One group with its members and the conversation around the item."""
    item = await find_item(session, item_id)
    group = await group_of(session, item)
    around: list[Message] = []
    if item.message_id is not None:
        source = await session.get(Message, item.message_id)
        if source is not None:
            around = await _around(session, source)
    return {
        **group_json(group),
        "id": item.id,
        "text": _masked(item.text),
        "conversation_id": item.conversation_id,
        "message_id": item.message_id,
        "members": [
            {
                "id": member.id,
                "text": _masked(member.text),
                "conversation_id": member.conversation_id,
                "message_id": member.message_id,
                "reasons": member.reasons,
                "predicted_intent": member.predicted_intent,
                "confidence": member.confidence,
                "agent_intent": member.agent_intent,
            }
            for member in sorted(group.items, key=lambda m: m.id)
        ],
        "conversation": {
            "id": item.conversation_id,
            "messages": [
                {**message_json(turn), "source": turn.id == item.message_id} for turn in around
            ],
        },
    }


async def _around(session: AsyncSession, source: Message) -> list[Message]:
    visible = (
        Message.conversation_id == source.conversation_id,
        Message.private.is_(False),
        Message.role != MessageRole.ACTIVITY,
    )
    before = list(
        await session.scalars(
            select(Message)
            .where(*visible, Message.created_at <= source.created_at, Message.id != source.id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(CONTEXT_TURNS)
        )
    )
    after = list(
        await session.scalars(
            select(Message)
            .where(*visible, Message.created_at >= source.created_at, Message.id != source.id)
            .order_by(Message.created_at, Message.id)
            .limit(CONTEXT_TURNS)
        )
    )
    before_ids = {m.id for m in before}
    return [*reversed(before), source, *(m for m in after if m.id not in before_ids)]
