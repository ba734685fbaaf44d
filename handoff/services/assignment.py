"""Teams, urgency and the choice of an agent for a waiting conversation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Conversation, ConversationStatus, Role

TEAMS = ("after_sales", "logistics", "billing", "complaints")
URGENT_REASONS = frozenset({"sensitive_topic", "complaint"})
# The bot's anger score (the highest of the customer's messages, 0 to 1) at or
# above which a hand-off is urgent, whatever its reason.
ANGRY_SCORE = 0.5
_TEAM_BY_INTENT = {
    "track_shipment": "logistics",
    "urge_shipment": "logistics",
    "change_address": "logistics",
    "request_refund": "billing",
    "check_refund_progress": "billing",
    "faq/payment_methods": "billing",
    "faq/invoice": "billing",
}


def team_for(reason: str | None, intent: str | None) -> str:
    """The team that should handle a handoff with this reason and last intent."""
    if reason in URGENT_REASONS:
        return "complaints"
    return _TEAM_BY_INTENT.get(intent or "", "after_sales")


def is_urgent(reason: str | None, anger_score: float | None = None) -> bool:
    """Sensitive topics, complaints and angry customers jump the queue."""
    return reason in URGENT_REASONS or (anger_score is not None and anger_score >= ANGRY_SCORE)


async def open_load(session: AsyncSession) -> dict[int, int]:
    """How many open conversations each agent holds."""
    rows = await session.execute(
        select(Conversation.assignee_id, func.count())
        .where(
            Conversation.status == ConversationStatus.OPEN, Conversation.assignee_id.is_not(None)
        )
        .group_by(Conversation.assignee_id)
    )
    return {agent_id: count for agent_id, count in rows.tuples() if agent_id is not None}


async def available_agents(session: AsyncSession) -> list[Agent]:
    """Online agents (and admins) who take conversations."""
    result = await session.scalars(
        select(Agent)
        .where(
            Agent.online.is_(True),
            Agent.active.is_(True),
            Agent.role.in_([Role.AGENT, Role.ADMIN]),
        )
        .order_by(Agent.id)
    )
    return list(result)


def pick_agent(team: str | None, agents: list[Agent], load: dict[int, int]) -> Agent | None:
    """The least-loaded online agent with the team's skill and free capacity."""
    candidates = [
        agent
        for agent in agents
        if (team is None or team in (agent.skills or [])) and load.get(agent.id, 0) < agent.capacity
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda agent: (
            load.get(agent.id, 0) / max(agent.capacity, 1),
            load.get(agent.id, 0),
            agent.id,
        ),
    )
