"""Agent accounts: admins create them; everyone may list them (for transfers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select

from handoff.api.deps import Admin, CurrentAgent, SessionDep
from handoff.api.schemas import NewAgent
from handoff.models import Agent
from handoff.services.accounts import create_agent
from handoff.services.assignment import open_load
from handoff.services.views import agent_json

router = APIRouter(prefix="/api/agents", tags=["agents"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: NewAgent, _admin: Admin, session: SessionDep) -> dict[str, Any]:
    """Creates an account (admin only)."""
    agent = await create_agent(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        skills=body.skills,
        capacity=body.capacity,
    )
    await session.commit()
    return {"agent": agent_json(agent)}


@router.get("")
async def list_agents(_agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    """Every account with its role, skills, presence and ``load`` (open conversations held)."""
    agents = await session.scalars(select(Agent).order_by(Agent.username))
    load = await open_load(session)
    return {"agents": [{**agent_json(agent), "load": load.get(agent.id, 0)} for agent in agents]}
