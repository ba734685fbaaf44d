"""The labelled examples for training: one per wording, newest label first, traceable."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AnnotationItem, AnnotationStatus
from handoff.services.privacy.mask import with_placeholders


async def export(session: AsyncSession) -> list[dict[str, Any]]:
    """Labelled examples, one per normalised wording (the newest label wins), traceable.

    Personal data in the texts is replaced by placeholders (``<phone>``,
    ``<address>`` ...), the spans moved with it, so none reaches ``data/nlu/``.

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
    return [_example(item) for item in sorted(chosen.values(), key=lambda i: i.id)]


def _example(item: AnnotationItem) -> dict[str, Any]:
    spans = [
        {"start": e["start"], "end": e["end"], "entity": e["entity"], "value": e["value"]}
        for e in item.entities or []
    ]
    text, spans = with_placeholders(item.text, spans)
    return {
        "text": text,
        "intent": item.label_intent,
        "entities": spans,
        "source": {
            "annotation_id": item.id,
            "conversation_id": item.conversation_id,
            "message_id": item.message_id,
            "reason": item.reason,
            "reasons": item.reasons,
        },
    }


def _dedupe_key(item: AnnotationItem) -> str:
    # Same wording up to case, width and spacing; unlike grouping, digits and
    # particles are kept: they are what a training example is made of. Personal
    # data is not: two wordings differing only in a phone number are one example.
    text = with_placeholders(item.text)[0]
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
