"""TOTP second factor (RFC 6238, via pyotp): enrolment, confirmation, codes used once.

An account enrols by receiving a secret and its ``otpauth://`` URI once (kept as
``totp_pending``); the first valid code confirms it (``totp_secret``). From then on
sign-in needs a current code. A code is accepted once: the 30-second step it
belongs to must be newer than the last accepted one, which a conditional
``UPDATE`` records atomically, so two concurrent sign-ins cannot both use it.
"""

from __future__ import annotations

import hmac
import re
import time

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import Conflict
from handoff.models import Agent, Role

ISSUER = "Shop support inbox"
STEP_S = 30
# One step either side: phones whose clocks drift by up to half a minute still work.
VALID_WINDOW = 1
CODE = re.compile(r"^[0-9]{6}\Z")
REQUIRED_FOR_ADMINS = "admin"
clock = time.time  # what "now" is; tests pin it to stay clear of step boundaries


def enabled(agent: Agent) -> bool:
    """Whether sign-in asks ``agent`` for a code."""
    return agent.totp_secret is not None


def required(agent: Agent, policy: str) -> bool:
    """Whether ``HANDOFF_REQUIRE_2FA=policy`` makes a second factor compulsory for ``agent``."""
    return policy == REQUIRED_FOR_ADMINS and agent.role == Role.ADMIN


def start_enrolment(agent: Agent) -> tuple[str, str]:
    """A new pending secret and its ``otpauth://`` URI (the caller commits; shown once).

    Raises:
        Conflict: the account already has a confirmed second factor.
    """
    if enabled(agent):
        raise Conflict("a second factor is already set up; turn it off first")
    secret = pyotp.random_base32()
    agent.totp_pending = secret
    uri = pyotp.TOTP(secret).provisioning_uri(name=agent.username, issuer_name=ISSUER)
    return secret, uri


def _matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    if not CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now if now is not None else clock()) // STEP_S
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def _use_step(session: AsyncSession, agent: Agent, step: int) -> bool:
    # Atomic: only one caller moves the last step forward to this one.
    result = await session.execute(
        update(Agent)
        .where(
            Agent.id == agent.id,
            or_(Agent.totp_last_step.is_(None), Agent.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    used = bool(getattr(result, "rowcount", 0))
    if used:
        agent.totp_last_step = step
    return used


async def check_code(
    session: AsyncSession, agent: Agent, code: str, *, now: float | None = None
) -> bool:
    """True once for a current code of the confirmed secret (the caller commits)."""
    if agent.totp_secret is None:
        return False
    step = _matching_step(agent.totp_secret, code, now=now)
    return step is not None and await _use_step(session, agent, step)


async def confirm(
    session: AsyncSession, agent: Agent, code: str, *, now: float | None = None
) -> bool:
    """Turns the pending secret on when ``code`` matches it (the caller commits)."""
    if agent.totp_pending is None:
        return False
    step = _matching_step(agent.totp_pending, code, now=now)
    if step is None or not await _use_step(session, agent, step):
        return False
    agent.totp_secret, agent.totp_pending = agent.totp_pending, None
    return True


def turn_off(agent: Agent, *, policy: str) -> None:
    """Removes the second factor (the caller commits).

    Raises:
        Conflict: ``HANDOFF_REQUIRE_2FA`` makes it compulsory for this account.
    """
    if required(agent, policy):
        raise Conflict("HANDOFF_REQUIRE_2FA makes a second factor compulsory for this account")
    agent.totp_secret = agent.totp_pending = None
