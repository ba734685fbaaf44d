"""Agent accounts: creation, changes, the bootstrap admin and password checks."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import Conflict, SettingsError
from handoff.models import Agent, Role
from handoff.security import PasswordPool, hash_password
from handoff.services.assignment import TEAMS
from handoff.services.passwords import check_password

logger = logging.getLogger(__name__)

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}\Z")


def check_skills(skills: list[str]) -> None:
    """Raises :class:`Conflict` naming skills that are not teams."""
    unknown = sorted(set(skills) - set(TEAMS))
    if unknown:
        raise Conflict(f"unknown skills {unknown}; teams: {', '.join(TEAMS)}")


def check_new_account(username: str, password: str, skills: list[str]) -> None:
    """Raises :class:`Conflict` for a malformed username, weak password or unknown skill."""
    if not USERNAME.match(username):
        raise Conflict("usernames are 2–64 letters, digits or _ . @ -")
    check_password(password, username=username)
    check_skills(skills)


async def find_agent(session: AsyncSession, username: str) -> Agent | None:
    """The account named ``username``, whatever the case of its letters."""
    return await session.scalar(select(Agent).where(func.lower(Agent.username) == username.lower()))


async def create_agent(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role = Role.AGENT,
    skills: list[str] | None = None,
    capacity: int = 5,
    pool: PasswordPool | None = None,
) -> Agent:
    """Adds an account with an argon2 password hash (hashed in ``pool`` when given).

    Raises:
        Conflict: the username is taken (in any case) or the input is unusable.
    """
    skills = list(skills or [])
    check_new_account(username, password, skills)
    if capacity < 0:
        raise Conflict("capacity cannot be negative")
    if await find_agent(session, username) is not None:
        raise Conflict(f"the username {username!r} is taken")
    agent = Agent(
        username=username,
        password_hash=await pool.hash(password) if pool else hash_password(password),
        role=role,
        skills=skills,
        capacity=capacity,
        online=False,
        active=True,
        token_version=0,
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"the username {username!r} is taken") from error
    return agent


async def authenticate(
    session: AsyncSession, username: str, password: str, *, pool: PasswordPool
) -> Agent | None:
    """The active agent when the password matches, else None (same effort either way).

    Raises:
        HasherBusy: too many passwords are being checked at once.
    """
    agent = await find_agent(session, username)
    # Release the connection while argon2 runs: a flood must not hold the pool.
    await session.commit()
    matches = await pool.verify(agent.password_hash if agent else None, password)
    if not matches or agent is None or not agent.active:
        return None
    return agent


async def bootstrap_admin(sessions: async_sessionmaker[AsyncSession], spec: str | None) -> bool:
    """Creates the first admin from ``HANDOFF_BOOTSTRAP_ADMIN=user:password`` when none exists.

    Raises:
        SettingsError: the setting is not ``user:password`` or the password is too weak.
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
