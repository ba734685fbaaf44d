"""A customer's rights (admins): a copy of everything held about them, and erasure.

Until cross-channel identity exists, a customer is their conversation id.
Both are recorded in the access records (``GET /api/audit``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from handoff.api.client_address import client_address
from handoff.api.deps import Admin, ServicesDep
from handoff.services.customers import EraseCustomer, audit_hook, export_customer

router = APIRouter(prefix="/api/customers", tags=["customers"])

# Conversation ids are at most 255 characters (the column's size).
ConversationId = Annotated[str, Path(min_length=1, max_length=255)]


@router.get(
    "/{conversation_id}/export",
    responses={404: {"description": "nothing is held about this customer"}},
)
async def export(
    conversation_id: ConversationId, admin: Admin, services: ServicesDep, request: Request
) -> JSONResponse:
    """Everything held about the customer: ``{"conversation_id", "exported_at",
    "conversation", "messages", "notes", "handoffs", "csat", "cases", "annotations",
    "annotation_history", "flags", "slack_threads", "dead_letters", "tracker_events"}``,
    unmasked."""
    async with services.sessions() as session:
        found = await export_customer(session, conversation_id, services.tracker_store)
    await audit_hook.record(
        services.sessions,
        action=audit_hook.EXPORTED,
        conversation_id=conversation_id,
        actor=admin.username,
        address=client_address(request, services.settings.trusted_proxies),
        details={
            "messages": len(found["messages"]),
            "tracker_events": len(found["tracker_events"]),
        },
    )
    return JSONResponse(
        jsonable_encoder(found),
        headers={
            "Content-Disposition": 'attachment; filename="customer-export.json"',
        },
    )


@router.post(
    "/{conversation_id}/erase",
    responses={
        404: {"description": "nothing is held about this customer"},
        409: {"description": "the conversation is waiting for or held by an agent"},
    },
)
async def erase(
    conversation_id: ConversationId, admin: Admin, services: ServicesDep, request: Request
) -> dict[str, Any]:
    """Removes the customer's words and personal data from the service's database, Rasa's
    tracker store, the trainers' queue and the exported labels; the metrics keep
    anonymous counts.

    ``{"erased": true, "conversation_id", "messages", "annotations", "tracker_events",
    "exported_labels"}``
    (how many of each were erased or anonymised).
    """
    erased = await EraseCustomer(
        services.sessions, services.tracker_store, services.exported_labels
    ).perform(conversation_id)
    await audit_hook.record(
        services.sessions,
        action=audit_hook.ERASED,
        conversation_id=conversation_id,
        actor=admin.username,
        address=client_address(request, services.settings.trusted_proxies),
        details=erased.counts(),
    )
    return {"erased": True, "conversation_id": conversation_id, **erased.counts()}
