"""Agent accounts: admins create them; everyone may list them (for transfers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from sqlalchemy import select

from handoff.api.deps import Admin, ClientAddress, CurrentAgent, ServicesDep, SessionDep
from handoff.api.schemas import USERNAME_PATTERN, AgentPatch, NewAgent
from handoff.models import Agent
from handoff.services import audit
from handoff.services.account_changes import AgentChanges, change_agent
from handoff.services.accounts import create_agent
from handoff.services.assignment import open_load
from handoff.services.conversations.rules import can_reply
from handoff.services.views import agent_json

router = APIRouter(prefix="/api/agents", tags=["agents"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: NewAgent,
    admin: Admin,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, Any]:
    """Creates an account (admin only)."""
    agent = await create_agent(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        skills=body.skills,
        capacity=body.capacity,
        pool=services.passwords,
    )
    audit.record(
        session,
        actor=admin,
        action=audit.AGENT_CREATE,
        target=agent.username,
        address=address,
        detail={"role": agent.role.value},
    )
    await session.commit()
    return {"agent": agent_json(agent)}


@router.patch("/{username}")
async def change(
    username: Annotated[str, Path(max_length=64, pattern=USERNAME_PATTERN)],
    body: AgentPatch,
    admin: Admin,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, Any]:
    """Disables (``{"active": false}``), re-enables, or sets password, role, skills, capacity.

    Disabling and a new password end every session of the account at once; the
    conversations of an account that can no longer reply go back to their queue.
    """
    changes = AgentChanges(**body.model_dump(exclude_unset=True))
    agent = await change_agent(session, username, changes, pool=services.passwords)
    audit.record(
        session,
        actor=admin,
        action=audit.AGENT_CHANGE,
        target=agent.username,
        address=address,
        # Which fields changed, and the new values except the password.
        detail={
            key: ("(set)" if key == "password" else value)
            for key, value in body.model_dump(mode="json", exclude_unset=True).items()
        },
    )
    await session.commit()
    if not can_reply(agent):
        await services.conversations.release(agent, by=admin)
    return {"agent": {**agent_json(agent), "active": agent.active}}


@router.get("")
async def list_agents(_agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    """Every account: role, skills, presence, ``load`` (open conversations), ``second_factor``."""
    agents = await session.scalars(select(Agent).order_by(Agent.username))
    load = await open_load(session)
    return {
        "agents": [
            {
                **agent_json(agent),
                "active": agent.active,
                "load": load.get(agent.id, 0),
                "second_factor": agent.totp_secret is not None,
            }
            for agent in agents
        ]
    }
