"""The trainers' queue (roles trainer and admin) and the web chat's thumbs-down.

``GET /api/annotations?status=new`` lists groups of near-duplicate messages,
most frequent first; ``POST /api/annotations/{id}`` labels or ignores the
item's whole group; ``/undo`` reverts the group's latest action;
``/export`` hands the labels to ``bot retrain`` (also with the service token).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, model_validator

from handoff.api.deps import ServiceCaller, ServicesDep, SessionDep, current_agent, require_roles
from handoff.models import Agent, AnnotationStatus, Role
from handoff.security import same_secret
from handoff.services.annotations import collect, labelling, review_queue, training_export
from handoff.services.storable import text_problem

router = APIRouter(prefix="/api/annotations", tags=["annotation"])
internal_router = APIRouter(prefix="/api/internal", tags=["internal"])

Trainer = Annotated[Agent, Depends(require_roles(Role.TRAINER, Role.ADMIN))]
_bearer = HTTPBearer(auto_error=False)


class EntitySpan(BaseModel):
    """``{"start", "end", "entity": "order_id"}`` on the item's text."""

    start: int = Field(ge=0)
    end: int = Field(ge=1)
    entity: str = Field(min_length=1, max_length=64)


class LabelBody(BaseModel):
    """``{"intent", "entities"?}`` or ``{"ignore": true}``."""

    intent: str | None = Field(default=None, min_length=1, max_length=128)
    entities: list[EntitySpan] = Field(default_factory=list, max_length=20)
    ignore: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> LabelBody:
        if self.ignore == (self.intent is not None):
            raise ValueError('send either {"intent": ...} or {"ignore": true}')
        return self


class FeedbackBody(BaseModel):
    """The web chat's ``{"conversation_id", "message_ts" | "text", "rating": "down"}``."""

    conversation_id: str = Field(min_length=1, max_length=255)
    message_ts: float | None = Field(default=None, allow_inf_nan=False)
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    rating: Literal["down"]

    @model_validator(mode="after")
    def _which_message(self) -> FeedbackBody:
        if self.message_ts is None and self.text is None:
            raise ValueError("name the message by message_ts or text")
        for value in (self.conversation_id, self.text):
            problem = text_problem(value) if value is not None else None
            if problem:
                raise ValueError(problem)
        return self


def _status(value: str) -> AnnotationStatus:
    try:
        return AnnotationStatus(value)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "status is one of " + ", ".join(s.value for s in AnnotationStatus),
        ) from None


@router.get("")
async def list_annotations(
    _trainer: Trainer,
    session: SessionDep,
    status_: Annotated[str, Query(alias="status")] = "new",
    reason: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Groups of the queue, most frequent first, with counts per reason."""
    return await review_queue.list_groups(
        session, status=_status(status_), reason=reason, limit=limit
    )


@router.get("/history")
async def history(
    _trainer: Trainer, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Label and ignore actions, newest first, undone ones marked."""
    return {"history": await labelling.history(session, limit=limit)}


async def trainer_or_service(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """A trainer or admin, or the Rasa side with the service token (``bot retrain``)."""
    if credentials and same_secret(credentials.credentials, services.settings.service_token()):
        return
    agent = await current_agent(request, services, session, credentials)
    if agent.role not in (Role.TRAINER, Role.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs the role trainer or admin")


@router.get("/export", dependencies=[Depends(trainer_or_service)])
async def export(session: SessionDep) -> dict[str, Any]:
    """Labelled examples, deduplicated, each with its source."""
    return {"examples": await training_export.export(session)}


@router.get("/{item_id}")
async def detail(item_id: int, _trainer: Trainer, session: SessionDep) -> dict[str, Any]:
    """The item's group, its members and the conversation around the item."""
    return await review_queue.detail(session, item_id)


@router.post("/{item_id}")
async def label(
    item_id: int, body: LabelBody, trainer: Trainer, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Labels (``intent``, optional ``order_id`` spans) or ignores the item's whole group."""
    entry = await labelling.label_group(
        session,
        item_id=item_id,
        agent=trainer,
        intent=body.intent,
        entities=[span.model_dump() for span in body.entities],
        ignore=body.ignore,
        known_intents=set(services.intents),
    )
    await session.commit()
    return {"history": labelling.history_json(entry), "labelled": len(entry.item_ids)}


@router.post("/{item_id}/undo")
async def undo(item_id: int, trainer: Trainer, session: SessionDep) -> dict[str, Any]:
    """Reverts the latest label or ignore of the item's group."""
    entry = await labelling.undo(session, item_id=item_id, agent=trainer)
    await session.commit()
    return {"history": labelling.history_json(entry), "restored": len(entry.item_ids)}


@internal_router.post("/feedback", status_code=status.HTTP_201_CREATED)
async def feedback(
    body: FeedbackBody, _caller: ServiceCaller, session: SessionDep
) -> dict[str, Any]:
    """A thumbs-down on a bot answer in the web chat: the message it answered is queued."""
    item = await collect.on_feedback(
        session, conversation_id=body.conversation_id, message_ts=body.message_ts, text=body.text
    )
    await session.commit()
    return {"queued": item is not None, "annotation_id": item.id if item else None}
