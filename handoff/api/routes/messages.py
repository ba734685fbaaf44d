"""Flagging misunderstood bot turns, and the domain's intents for the picker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from handoff.api.deps import CurrentAgent, ServicesDep, SessionDep
from handoff.api.schemas import FlagBody
from handoff.services.flags import flag_json, flag_message

router = APIRouter(prefix="/api", tags=["annotation"])


@router.post("/messages/{message_id}/flag", status_code=status.HTTP_201_CREATED)
async def flag(
    message_id: int, body: FlagBody, agent: CurrentAgent, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Marks a bot turn misunderstood; the customer message it answered gets ``intent``."""
    created = await flag_message(
        session,
        message_id=message_id,
        intent=body.intent,
        agent=agent,
        known_intents=set(services.intents),
    )
    await session.commit()
    return {"flag": flag_json(created)}


@router.get("/intents")
async def intents(_agent: CurrentAgent, services: ServicesDep) -> dict[str, list[str]]:
    """The intent names of ``domain.yml``."""
    return {"intents": services.intents}
