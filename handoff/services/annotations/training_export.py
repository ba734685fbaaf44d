"""The labelled examples for training: one per wording, newest label first, traceable."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AnnotationItem, AnnotationStatus


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
