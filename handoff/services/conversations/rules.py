"""Who may move a conversation, and to whom: the assignment rules in one place.

A conversation someone holds is theirs: only they or an admin may transfer it
(to an agent or a team), hand it back to the bot or resolve it. A waiting
conversation nobody holds is the team's: any agent may claim, route or close it.
Conversations go only to accounts that can reply: active agents and admins.
"""

from __future__ import annotations

from handoff.errors import Conflict, Forbidden
from handoff.models import Agent, Conversation, Role

CAN_REPLY = frozenset({Role.AGENT, Role.ADMIN})


def can_reply(agent: Agent) -> bool:
    """True for an active account whose role answers customers."""
    return agent.active and agent.role in CAN_REPLY


def check_may_move(conversation: Conversation, actor: Agent, action: str) -> None:
    """Raises :class:`Forbidden` when ``actor`` may not ``action`` this conversation."""
    if actor.role == Role.ADMIN:
        return
    if conversation.assignee_id not in (None, actor.id):
        raise Forbidden(f"only the agent holding {conversation.id} or an admin may {action} it")


def check_may_receive(target: Agent) -> None:
    """Raises :class:`Conflict` when ``target`` could not reply to a conversation."""
    if not target.active:
        raise Conflict(f"{target.username} is disabled and cannot take conversations")
    if target.role not in CAN_REPLY:
        raise Conflict(f"{target.username} is a {target.role.value} and cannot reply")
