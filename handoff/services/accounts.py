"""Agent accounts: creation, the bootstrap admin and password checks."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import Conflict, SettingsError
from handoff.models import Agent, Role
from handoff.security import hash_password, verify_password
from handoff.services.assignment import TEAMS

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 8


def check_new_account(username: str, password: str, skills: list[str]) -> None:
    """Raises :class:`Conflict` for a malformed username, short password or unknown skill."""
    if not USERNAME.match(username):
        raise Conflict("usernames are 2–64 letters, digits or _ . @ -")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Conflict(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    unknown = sorted(set(skills) - set(TEAMS))
    if unknown:
        raise Conflict(f"unknown skills {unknown}; teams: {', '.join(TEAMS)}")


async def create_agent(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role = Role.AGENT,
    skills: list[str] | None = None,
    capacity: int = 5,
) -> Agent:
    """Adds an account with an argon2 password hash.

    Raises:
        Conflict: the username is taken or the input is unusable.
    """
    skills = list(skills or [])
    check_new_account(username, password, skills)
    if capacity < 0:
        raise Conflict("capacity cannot be negative")
    agent = Agent(
        username=username,
        password_hash=hash_password(password),
        role=role,
        skills=skills,
        capacity=capacity,
        online=False,
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"the username {username!r} is taken") from error
    return agent


async def authenticate(session: AsyncSession, username: str, password: str) -> Agent | None:
    """The agent when the password matches, else None (same effort either way)."""
    agent = await session.scalar(select(Agent).where(Agent.username == username))
    if not verify_password(agent.password_hash if agent else None, password):
        return None
    return agent


async def bootstrap_admin(sessions: async_sessionmaker[AsyncSession], spec: str | None) -> bool:
    """Creates the first admin from ``HANDOFF_BOOTSTRAP_ADMIN=user:password`` when none exists.

    Raises:
        SettingsError: the setting is not ``user:password``.
    """
    if not spec:
        return False
    username, sep, password = spec.partition(":")
    if not sep or not username or not password:
        raise SettingsError("HANDOFF_BOOTSTRAP_ADMIN must look like user:password")
    async with sessions.begin() as session:
        admins = await session.scalar(
            select(func.count()).select_from(Agent).where(Agent.role == Role.ADMIN)
        )
        if admins:
            return False
        try:
            await create_agent(
                session, username=username, password=password, role=Role.ADMIN, skills=list(TEAMS)
            )
        except Conflict as error:
            raise SettingsError(f"HANDOFF_BOOTSTRAP_ADMIN: {error}") from error
    logger.info("created the first admin, %s", username)
    return True
