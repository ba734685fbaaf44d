"""Trainers' actions on a group of the review queue: label or ignore, undo, and their history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, InvalidInput, NotFound
from handoff.models import Agent, AnnotationHistory, AnnotationItem, AnnotationStatus, utcnow
from handoff.services.annotations import review_queue
from handoff.services.privacy.mask import mask_text, mask_value
from handoff.services.views import iso

ENTITY_NAMES = frozenset({"order_id"})


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
    item = await review_queue.find_item(session, item_id, lock=True)
    if item.status != AnnotationStatus.NEW:
        raise Conflict(f"item {item_id} is already {item.status.value}; undo first")
    if not ignore:
        if not intent:
            raise InvalidInput('send {"intent": ...} or {"ignore": true}')
        if known_intents and intent not in known_intents:
            raise InvalidInput(f"unknown intent {intent!r}")
    spans = check_entities(item.text, entities or []) if not ignore else []
    group = await review_queue.group_of(session, item)
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
    item = await review_queue.find_item(session, item_id, lock=True)
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
        "entities": mask_value(entry.entities or []),
        "text": mask_text(entry.text, same_length=True) if entry.text else entry.text,
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
