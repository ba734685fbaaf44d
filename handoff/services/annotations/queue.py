"""The trainers' queue: groups of near-duplicates, labelling, undo, history and export."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, InvalidInput, NotFound
from handoff.models import (
    Agent,
    AnnotationHistory,
    AnnotationItem,
    AnnotationStatus,
    Message,
    MessageRole,
    utcnow,
)
from handoff.services.views import iso, message_json

EXAMPLES = 5
CONTEXT_TURNS = 6
ENTITY_NAMES = frozenset({"order_id"})


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


def group_json(group: Group) -> dict[str, Any]:
    """One row of ``GET /api/annotations`` (a whole group)."""
    first = group.representative
    reasons = group.reasons
    wordings = Counter(item.text for item in group.items)
    agent_intents = Counter(item.agent_intent for item in group.items if item.agent_intent)
    return {
        "id": first.id,
        "group_id": group.group_id,
        "text": first.text,
        "predicted_intent": first.predicted_intent,
        "confidence": first.confidence,
        "second_intent": first.intent_2,
        "second_confidence": first.confidence_2,
        "count": len(group.items),
        "group_size": len(wordings),
        "reason": reasons.most_common(1)[0][0] if reasons else first.reason,
        "reasons": dict(reasons.most_common()),
        "agent_intent": agent_intents.most_common(1)[0][0] if agent_intents else None,
        "examples": [{"text": text, "count": n} for text, n in wordings.most_common(EXAMPLES)],
        "conversation_id": first.conversation_id,
        "message_id": first.message_id,
        "status": first.status.value,
        "label_intent": first.label_intent,
        "entities": first.entities or [],
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
    groups.sort(key=lambda g: (-len(g.items), -max(i.seen_at.timestamp() for i in g.items)))
    return {
        "items": [group_json(group) for group in groups[:limit]],
        "counts": {"all": len(_group_items(items)), **dict(counts)},
        "total": len(groups),
    }


async def _item(session: AsyncSession, item_id: int, *, lock: bool = False) -> AnnotationItem:
    # FOR UPDATE (PostgreSQL): two trainers labelling one group at once do not both win.
    query = select(AnnotationItem).where(AnnotationItem.id == item_id)
    if lock:
        query = query.with_for_update(of=AnnotationItem)
    item = await session.scalar(query)
    if item is None:
        raise NotFound(f"no annotation item {item_id}")
    return item


async def _group_of(session: AsyncSession, item: AnnotationItem) -> Group:
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
    item = await _item(session, item_id)
    group = await _group_of(session, item)
    around: list[Message] = []
    if item.message_id is not None:
        source = await session.get(Message, item.message_id)
        if source is not None:
            around = await _around(session, source)
    return {
        **group_json(group),
        "id": item.id,
        "text": item.text,
        "conversation_id": item.conversation_id,
        "message_id": item.message_id,
        "members": [
            {
                "id": member.id,
                "text": member.text,
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


# -- labelling ------------------------------------------------------------------------------


def check_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validated ``order_id`` spans of ``text``, each with its ``value``.

    Raises:
        InvalidInput: an unknown entity, or a span outside the text or empty.
    """
    checked = []
    for entity in entities:
        name, start, end = entity.get("entity"), entity.get("start"), entity.get("end")
        if name not in ENTITY_NAMES:
            raise InvalidInput(f"unknown entity {name!r}; known: {', '.join(ENTITY_NAMES)}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise InvalidInput(f"the span {start}–{end} is not inside the text")
        value = text[start:end]
        if value != value.strip():
            raise InvalidInput("a span must not start or end with whitespace")
        checked.append({"start": start, "end": end, "entity": name, "value": value})
    return checked


def _moved(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The spans found again in another wording of the group (by their value)."""
    moved = []
    for entity in entities:
        start = text.find(entity["value"])
        if start >= 0:
            moved.append({**entity, "start": start, "end": start + len(entity["value"])})
    return moved


def _snapshot(item: AnnotationItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "status": item.status.value,
        "label_intent": item.label_intent,
        "entities": item.entities or [],
        "labelled_by": item.labelled_by,
        "labelled_at": iso(item.labelled_at),
    }


async def label_group(
    session: AsyncSession,
    *,
    item_id: int,
    agent: Agent,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    ignore: bool = False,
    known_intents: set[str] | None = None,
) -> AnnotationHistory:
    """Labels (or ignores) every unlabelled item of the item's group.

    Spans are marked on the item's text; the other wordings get the same
    values where they contain them.

    Raises:
        NotFound: no such item.
        Conflict: the group is not waiting for a label.
        InvalidInput: neither an intent nor ``ignore``, an unknown intent or a bad span.
    """
    item = await _item(session, item_id, lock=True)
    if item.status != AnnotationStatus.NEW:
        raise Conflict(f"item {item_id} is already {item.status.value}; undo first")
    if not ignore:
        if not intent:
            raise InvalidInput('send {"intent": ...} or {"ignore": true}')
        if known_intents and intent not in known_intents:
            raise InvalidInput(f"unknown intent {intent!r}")
    spans = check_entities(item.text, entities or []) if not ignore else []
    group = await _group_of(session, item)
    now = utcnow()
    history = AnnotationHistory(
        group_id=group.group_id,
        action="ignore" if ignore else "label",
        intent=None if ignore else intent,
        entities=spans,
        text=item.text,
        item_ids=[member.id for member in group.items],
        previous=[_snapshot(member) for member in group.items],
        agent_id=agent.id,
        created_at=now,
    )
    for member in group.items:
        member.status = AnnotationStatus.IGNORED if ignore else AnnotationStatus.LABELLED
        member.label_intent = None if ignore else intent
        member.entities = spans if member.id == item.id else _moved(spans, member.text)
        member.labelled_by, member.labelled_at = agent.id, now
    session.add(history)
    await session.flush()
    return history


async def undo(session: AsyncSession, *, item_id: int, agent: Agent) -> AnnotationHistory:
    """Undoes the latest label or ignore of the item's group.

    Raises:
        NotFound: no such item, or nothing to undo.
    """
    item = await _item(session, item_id, lock=True)
    entries = list(
        await session.scalars(
            select(AnnotationHistory)
            .where(
                AnnotationHistory.group_id == item.group_id,
                AnnotationHistory.undone_at.is_(None),
            )
            .order_by(AnnotationHistory.id.desc())
        )
    )
    entry = next((e for e in entries if item.id in e.item_ids), None)
    if entry is None:
        raise NotFound(f"nothing to undo for item {item_id}")
    previous = {snapshot["id"]: snapshot for snapshot in entry.previous}
    members = list(
        await session.scalars(select(AnnotationItem).where(AnnotationItem.id.in_(entry.item_ids)))
    )
    for member in members:
        before = previous.get(member.id)
        if before is None:
            continue
        member.status = AnnotationStatus(before["status"])
        member.label_intent = before["label_intent"]
        member.entities = before["entities"]
        member.labelled_by = before["labelled_by"]
        member.labelled_at = None
    entry.undone_at, entry.undone_by = utcnow(), agent.id
    await session.flush()
    return entry


def history_json(entry: AnnotationHistory) -> dict[str, Any]:
    """One row of ``GET /api/annotations/history``."""
    return {
        "id": entry.id,
        "item_id": entry.item_ids[0] if entry.item_ids else None,
        "group_id": entry.group_id,
        "action": entry.action,
        "intent": entry.intent,
        "entities": entry.entities or [],
        "text": entry.text,
        "count": len(entry.item_ids),
        "agent": entry.agent.username if entry.agent else None,
        "created_at": iso(entry.created_at),
        "undone": entry.undone_at is not None,
        "undone_at": iso(entry.undone_at),
    }


async def history(session: AsyncSession, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest label and ignore actions first."""
    entries = await session.scalars(
        select(AnnotationHistory).order_by(AnnotationHistory.id.desc()).limit(limit)
    )
    return [history_json(entry) for entry in entries]


async def export(session: AsyncSession) -> list[dict[str, Any]]:
    """Labelled examples, one per normalised wording (the newest label wins), traceable.

    Wordings that are the same after whitespace and case folding are one
    example; when trainers gave the same wording two intents, the latest wins.
    """
    items = list(
        await session.scalars(
            select(AnnotationItem)
            .where(AnnotationItem.status == AnnotationStatus.LABELLED)
            .order_by(AnnotationItem.labelled_at, AnnotationItem.id)
        )
    )
    chosen: dict[str, AnnotationItem] = {}
    for item in items:
        key = _dedupe_key(item)
        previous = chosen.get(key)
        # Keep the wording that carries spans when the label is the same.
        if previous is not None and previous.label_intent == item.label_intent:
            if previous.entities and not item.entities:
                continue
        chosen[key] = item
    return [
        {
            "text": item.text,
            "intent": item.label_intent,
            "entities": [
                {"start": e["start"], "end": e["end"], "entity": e["entity"], "value": e["value"]}
                for e in item.entities or []
            ],
            "source": {
                "annotation_id": item.id,
                "conversation_id": item.conversation_id,
                "message_id": item.message_id,
                "reason": item.reason,
                "reasons": item.reasons,
            },
        }
        for item in sorted(chosen.values(), key=lambda i: i.id)
    ]


def _dedupe_key(item: AnnotationItem) -> str:
    # Same wording up to case, width and spacing; unlike grouping, digits and
    # particles are kept: they are what a training example is made of.
    return " ".join(unicodedata.normalize("NFKC", item.text).casefold().split())
