"""Calls from the Rasa side (service token): hand-offs and the event broker's batches.

Input the service cannot store is answered 422 with the reason and kept as a
dead letter (``handoff/services/dead_letters.py``); it never reaches the
database as a 500.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from handoff.api.deps import ServiceCaller, ServicesDep
from handoff.api.schemas import EventBatch, HandoffBody
from handoff.services.conversations import HandoffRequest

router = APIRouter(prefix="/api/internal", tags=["internal"])


def _reason(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg')}"
        for e in error.errors()
    )


@router.post("/handoffs", status_code=status.HTTP_201_CREATED, response_model=None)
async def hand_off(
    body: dict[str, Any], _caller: ServiceCaller, services: ServicesDep
) -> dict[str, Any] | JSONResponse:
    """Queues the conversation; answers what to tell the customer (422: refused, kept)."""
    try:
        checked = HandoffBody.model_validate(body)
    except ValidationError as error:
        reason = _reason(error)
        await services.conversations.refuse_handoff(body, reason)
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "hand-off refused", "reason": reason},
        )
    info = await services.conversations.hand_off(HandoffRequest(**checked.model_dump()))
    return asdict(info)


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=None)
async def ingest(
    body: EventBatch, _caller: ServiceCaller, services: ServicesDep
) -> dict[str, Any] | JSONResponse:
    """Stores tracker events (idempotent by Rasa timestamp).

    Events it cannot store are refused one by one: the rest of the batch is
    stored, and the answer is 422 naming each refused event's index and reason.
    """
    used, refused = await services.conversations.ingest(body.events)
    answer: dict[str, Any] = {
        "accepted": len(body.events) - len(refused),
        "stored": used,
    }
    if not refused:
        return answer
    indexes = {id(event): index for index, event in enumerate(body.events)}
    answer["refused"] = [
        {"index": indexes.get(id(refusal.payload)), "reason": refusal.reason} for refusal in refused
    ]
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=answer)
