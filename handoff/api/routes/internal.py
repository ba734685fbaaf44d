"""Calls from the Rasa side (service token): hand-offs and the event broker's batches."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, status

from handoff.api.deps import ServiceCaller, ServicesDep
from handoff.api.schemas import EventBatch, HandoffBody
from handoff.services.conversations import HandoffRequest

router = APIRouter(prefix="/api/internal", tags=["internal"])


@router.post("/handoffs", status_code=status.HTTP_201_CREATED)
async def hand_off(
    body: HandoffBody, _caller: ServiceCaller, services: ServicesDep
) -> dict[str, Any]:
    """Queues the conversation; answers what to tell the customer."""
    info = await services.conversations.hand_off(HandoffRequest(**body.model_dump()))
    return asdict(info)


@router.post("/events", status_code=status.HTTP_202_ACCEPTED)
async def ingest(body: EventBatch, _caller: ServiceCaller, services: ServicesDep) -> dict[str, int]:
    """Stores tracker events (idempotent by Rasa timestamp)."""
    used = await services.conversations.ingest(body.events)
    return {"accepted": len(body.events), "stored": used}
