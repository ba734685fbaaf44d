"""Canned responses: everyone reads them, admins write them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handoff.api.deps import Admin, ClientAddress, CurrentAgent, SessionDep
from handoff.api.schemas import NewCannedResponse
from handoff.errors import Conflict
from handoff.models import CannedResponse
from handoff.services import audit

router = APIRouter(prefix="/api/canned-responses", tags=["canned responses"])


def _json(canned: CannedResponse) -> dict[str, Any]:
    return {
        "id": canned.id,
        "shortcut": canned.shortcut,
        "text": canned.text,
        "language": canned.language,
    }


@router.get("")
async def list_canned(_agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    """``{"canned_responses": [{"id","shortcut","text","language"}]}``."""
    rows = await session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut))
    return {"canned_responses": [_json(row) for row in rows]}


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_canned(
    body: NewCannedResponse, admin: Admin, session: SessionDep, address: ClientAddress
) -> dict[str, Any]:
    """Adds a canned response (admin only)."""
    canned = CannedResponse(shortcut=body.shortcut, text=body.text, language=body.language)
    session.add(canned)
    audit.record(
        session,
        actor=admin,
        action=audit.CANNED_CREATE,
        target=f"{body.language}:{body.shortcut}"[:255],
        address=address,
    )
    try:
        await session.commit()
    except IntegrityError as error:
        raise Conflict(f"the shortcut {body.shortcut!r} exists for this language") from error
    return {"canned_response": _json(canned)}
