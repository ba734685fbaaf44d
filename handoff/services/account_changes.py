"""Changes to accounts: an admin's edits, an agent's own password, signing out everywhere.

Every change that must end sessions bumps ``token_version``: tokens and cookies
carry the version they were issued at, and the API refuses older ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict, Forbidden, NotFound
from handoff.models import Agent, Role
from handoff.security import PasswordPool
from handoff.services.accounts import check_skills, find_agent
from handoff.services.passwords import check_password


@dataclass(frozen=True)
class AgentChanges:
    """What ``PATCH /api/agents/{username}`` may change (None: unchanged)."""

    active: bool | None = None
    password: str | None = None
    role: Role | None = None
    skills: list[str] | None = None
    capacity: int | None = None
    second_factor: bool | None = None  # only False: remove it (a lost phone)


async def end_sessions(session: AsyncSession, agent_id: int) -> None:
    """Invalidates every token and cookie of the agent (atomically, in the database)."""
    await session.execute(
        update(Agent)
        .where(Agent.id == agent_id)
        .values(token_version=Agent.token_version + 1)
        .execution_options(synchronize_session="fetch")
    )


async def _other_active_admins(session: AsyncSession, agent: Agent) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Agent)
        .where(Agent.role == Role.ADMIN, Agent.active.is_(True), Agent.id != agent.id)
    )
    return int(count or 0)


async def change_agent(
    session: AsyncSession, username: str, changes: AgentChanges, *, pool: PasswordPool
) -> Agent:
    """Applies an admin's changes; disabling or a new password ends the agent's sessions.

    Raises:
        NotFound: no such account.
        Conflict: a weak password, unknown skill, or the last admin would be lost.
    """
    agent = await find_agent(session, username)
    if agent is None:
        raise NotFound(f"no agent {username!r}")
    loses_admin = agent.role == Role.ADMIN and (
        changes.active is False or (changes.role is not None and changes.role != Role.ADMIN)
    )
    if loses_admin and not await _other_active_admins(session, agent):
        raise Conflict("this is the last active admin; make another admin first")
    if changes.skills is not None:
        check_skills(changes.skills)
        agent.skills = list(changes.skills)
    if changes.capacity is not None:
        agent.capacity = changes.capacity
    if changes.role is not None:
        agent.role = changes.role
    ends_sessions = False
    if changes.password is not None:
        check_password(changes.password, username=agent.username)
        agent.password_hash = await pool.hash(changes.password)
        ends_sessions = True
    if changes.second_factor is not None:
        if changes.second_factor:
            raise Conflict("only the account itself can set up a second factor")
        # The account signs in with its password again (and re-enrols where compulsory).
        ends_sessions = ends_sessions or agent.totp_secret is not None
        agent.totp_secret = agent.totp_pending = None
    if changes.active is not None:
        ends_sessions = ends_sessions or (agent.active and not changes.active)
        agent.active = changes.active
        if not changes.active:
            agent.online = False
    await session.flush()
    if ends_sessions:
        await end_sessions(session, agent.id)
    await session.refresh(agent)
    return agent


async def change_own_password(
    session: AsyncSession, agent: Agent, *, current: str, new: str, pool: PasswordPool
) -> None:
    """The agent's new password after checking the current one; ends every session.

    Raises:
        Forbidden: the current password is wrong.
        Conflict: the new password breaks the policy.
    """
    stored = await session.get(Agent, agent.id)
    if stored is None or not await pool.verify(stored.password_hash, current):
        raise Forbidden("the current password is wrong")
    check_password(new, username=stored.username)
    stored.password_hash = await pool.hash(new)
    await session.flush()
    await end_sessions(session, stored.id)
