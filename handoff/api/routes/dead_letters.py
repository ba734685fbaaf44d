"""Dead letters: what the Rasa side sent that the service refused (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from handoff.api.deps import Admin, ServicesDep

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


@router.get("")
async def list_dead_letters(
    _admin: Admin,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """``{"total", "dead_letters": [{"id", "kind", "conversation_id", "reason", "payload",
    "received_at"}]}``, newest first; ``payload`` is the refused JSON, escaped."""
    total, rows = await services.conversations.dead_letters.page(limit=limit, offset=offset)
    return {"total": total, "dead_letters": rows}
