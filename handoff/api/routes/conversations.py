"""The queue, one conversation with its context, and what agents do with it."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from fastapi.responses import JSONResponse

from handoff.api.deps import ClientAddress, CurrentAgent, Handler, ServicesDep, SessionDep
from handoff.api.schemas import AssignBody, NewMessage, NewNote
from handoff.errors import DeliveryError
from handoff.models import Conversation, Message, Role
from handoff.services import audit, inbox_list, views
from handoff.services.privacy.mask import mask_value

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


async def _list_shape(services: ServicesDep, cid: str) -> dict[str, Any]:
    async with services.sessions() as session:
        conversation = await session.get(Conversation, cid)
        if conversation is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {cid!r}")
        last = (await views.last_messages(session, [cid])).get(cid)
        return views.conversation_json(
            conversation, last, wait_alert_s=services.settings.handoff_wait_alert_s
        )


@router.get("")
async def list_conversations(
    agent: CurrentAgent,
    services: ServicesDep,
    session: SessionDep,
    status_filter: Annotated[
        str, Query(alias="status", pattern="^(pending|mine|open|resolved|all)$")
    ] = "pending",
    limit: Annotated[int, Query(ge=1, le=inbox_list.MAX_PAGE)] = inbox_list.DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=inbox_list.MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """``{"conversations": [...], "has_more": bool, "counts": {...}}`` for one queue filter.

    One page of ``limit`` conversations from ``offset`` in queue order; ``has_more``
    says whether another page follows.
    """
    return await inbox_list.list_conversations(
        session,
        status=status_filter,
        me=agent,
        limit=limit,
        offset=offset,
        wait_alert_s=services.settings.handoff_wait_alert_s,
    )


async def _with_order(
    services: ServicesDep, body: dict[str, Any], *, masked: bool
) -> dict[str, Any]:
    """Adds the shop's order and shipping (masked like the rest unless not ``masked``)."""
    order_id = body["context"]["slots"].get("order_id")
    if services.shop is not None and isinstance(order_id, str) and order_id:
        order = await services.shop.order(order_id)
        if masked:
            order = mask_value(order)
        body["context"]["order"] = order
        body["context"]["shipping"] = order.get("shipping") if order else None
    return body


@router.get("/{cid}")
async def get_conversation(
    cid: str,
    agent: CurrentAgent,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, Any]:
    """The conversation with its messages and context (order and shipping from the shop).

    Personal data (phone, ID and bank card numbers, e-mail and delivery addresses)
    is masked: ``138****5678``. ``POST .../reveal`` shows it. Views are recorded (once per
    agent and conversation in ten minutes).
    """
    conversation = await session.get(Conversation, cid)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {cid!r}")
    body = await views.conversation_detail(
        session, conversation, wait_alert_s=services.settings.handoff_wait_alert_s
    )
    await audit.record_view(session, actor=agent, conversation_id=cid, address=address)
    await session.commit()  # no pooled connection held across the shop call and mark_read
    await _with_order(services, body, masked=True)
    # Seen by the agent holding it, or by anyone while nobody does (the shared queue).
    if conversation.unread and conversation.assignee_id in (None, agent.id):
        await services.conversations.mark_read(cid)
        body["unread"] = 0
    return body


@router.post("/{cid}/reveal")
async def reveal(
    cid: str,
    agent: CurrentAgent,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, Any]:
    """The conversation as ``GET`` shows it, personal data unmasked (the assignee or an admin).

    Recorded in the access records (``conversation.reveal``). Later live events
    are masked again.
    """
    conversation = await session.get(Conversation, cid)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no conversation {cid!r}")
    if agent.role != Role.ADMIN and conversation.assignee_id != agent.id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only the agent holding the conversation or an admin"
        )
    body = await views.conversation_detail(
        session,
        conversation,
        wait_alert_s=services.settings.handoff_wait_alert_s,
        masked=False,
    )
    audit.record(session, actor=agent, action=audit.REVEAL, conversation_id=cid, address=address)
    await session.commit()
    return await _with_order(services, body, masked=False)


@router.post("/{cid}/assign")
async def assign(
    cid: str,
    agent: Handler,
    services: ServicesDep,
    body: Annotated[AssignBody | None, Body()] = None,
) -> dict[str, Any]:
    """Claim (no body), or transfer: ``{"agent": "bob"}`` / ``{"team": "billing"}``."""
    body = body or AssignBody()
    await services.conversations.assign(cid, actor=agent, agent=body.agent, team=body.team)
    return {"conversation": await _list_shape(services, cid)}


async def _not_delivered(services: ServicesDep, error: DeliveryError) -> JSONResponse:
    """502 with the platform's reason and the stored (failed) message."""
    content: dict[str, Any] = {"detail": f"not delivered: {error}", "error": str(error)}
    if error.message_id is not None:
        async with services.sessions() as session:
            failed = await session.get(Message, error.message_id)
            content["message"] = views.message_json(failed) if failed else None
    return JSONResponse(status_code=status.HTTP_502_BAD_GATEWAY, content=content)


async def _post(cid: str, agent: Handler, services: ServicesDep, text: str, private: bool) -> Any:
    try:
        message = await services.conversations.post_message(
            cid, agent=agent, text=text, private=private
        )
    except DeliveryError as error:
        return await _not_delivered(services, error)
    # The service hands back the stored row as committed: no need to read it again.
    return JSONResponse(
        status_code=status.HTTP_201_CREATED, content={"message": views.message_json(message)}
    )


@router.post(
    "/{cid}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={502: {"description": "the connector refused; the message is kept, failed"}},
)
async def post_message(cid: str, body: NewMessage, agent: Handler, services: ServicesDep) -> Any:
    """A reply to the customer (``private: false``) or an internal note."""
    return await _post(cid, agent, services, body.text, body.private)


@router.post(
    "/{cid}/messages/{message_id}/resend",
    responses={502: {"description": "the connector refused again; the message stays failed"}},
)
async def resend_message(cid: str, message_id: int, agent: Handler, services: ServicesDep) -> Any:
    """Sends a reply that was not delivered once more ("send again" in the inbox)."""
    try:
        message = await services.conversations.resend(cid, message_id, agent=agent)
    except DeliveryError as error:
        return await _not_delivered(services, error)
    return {"message": views.message_json(message)}


@router.post("/{cid}/notes", status_code=status.HTTP_201_CREATED)
async def post_note(cid: str, body: NewNote, agent: Handler, services: ServicesDep) -> Any:
    """An internal note (never sent to the customer)."""
    return await _post(cid, agent, services, body.text, True)


@router.post("/{cid}/handback")
async def hand_back(cid: str, agent: Handler, services: ServicesDep) -> dict[str, Any]:
    """Back to the bot without CSAT."""
    await services.conversations.hand_back(cid, agent=agent)
    return {"conversation": await _list_shape(services, cid)}


@router.post("/{cid}/resolve")
async def resolve(cid: str, agent: Handler, services: ServicesDep) -> dict[str, Any]:
    """Resolved; the customer is asked for a rating."""
    await services.conversations.resolve(cid, agent=agent)
    return {"conversation": await _list_shape(services, cid)}
