"""The TOTP second factor: enrolment (before or after sign-in), confirmation, turning off."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from handoff.api.client_address import client_address
from handoff.api.deps import ClientAddress, CurrentAgent, ServicesDep, SessionDep
from handoff.api.schemas import Credentials, OneTimeCode
from handoff.models import Agent
from handoff.security import HasherBusy
from handoff.services import audit, second_factor
from handoff.services.accounts import authenticate

router = APIRouter(prefix="/api", tags=["auth"])


async def _enrol(session: SessionDep, agent: Agent, address: str) -> dict[str, str]:
    secret, uri = second_factor.start_enrolment(agent)
    audit.record(
        session, actor=agent, action=audit.TOTP_ENROL, target=agent.username, address=address
    )
    await session.commit()
    return {"secret": secret, "otpauth_uri": uri}


@router.post("/auth/totp/enrol", status_code=status.HTTP_201_CREATED)
async def enrol_before_sign_in(
    body: Credentials, request: Request, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    """For an account that must have a second factor and has none yet (username + password).

    Answers the secret and its ``otpauth://`` URI once; signing in with a code from
    it (``POST /api/auth/login`` with ``code``) confirms it.
    """
    address = client_address(request, services.settings.trusted_proxies)
    if not await services.limiter.admit(body.username, address):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many sign-in attempts; try again later",
            headers={"Retry-After": str(services.limiter.limits.window_s)},
        )
    try:
        agent = await authenticate(session, body.username, body.password, pool=services.passwords)
    except HasherBusy as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many sign-ins at once; try again in a moment",
            headers={"Retry-After": "1"},
        ) from error
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    return await _enrol(session, agent, address[:64])


@router.post("/me/totp", status_code=status.HTTP_201_CREATED)
async def enrol(agent: CurrentAgent, session: SessionDep, address: ClientAddress) -> dict[str, str]:
    """A new secret and ``otpauth://`` URI, shown once; ``/api/me/totp/confirm`` turns it on."""
    mine = await session.merge(agent)
    return await _enrol(session, mine, address)


@router.post("/me/totp/confirm")
async def confirm(
    body: OneTimeCode, agent: CurrentAgent, session: SessionDep, address: ClientAddress
) -> dict[str, bool]:
    """Turns the enrolled secret on with a current code from it (400 for a wrong code)."""
    mine = await session.merge(agent)
    if mine.totp_pending is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no enrolment to confirm; POST /api/me/totp")
    if not await second_factor.confirm(session, mine, body.code):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "wrong or already used one-time code")
    audit.record(
        session, actor=mine, action=audit.TOTP_ENABLE, target=mine.username, address=address
    )
    await session.commit()
    return {"second_factor": True}


@router.post("/me/totp/disable")
async def disable(
    body: OneTimeCode,
    agent: CurrentAgent,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, bool]:
    """Turns the second factor off with a current code (409 when it is compulsory)."""
    mine = await session.merge(agent)
    if not second_factor.enabled(mine):
        raise HTTPException(status.HTTP_409_CONFLICT, "no second factor is set up")
    if second_factor.required(mine, services.settings.handoff_require_2fa):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "HANDOFF_REQUIRE_2FA makes a second factor compulsory for this account",
        )
    if not await second_factor.check_code(session, mine, body.code):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "wrong or already used one-time code")
    second_factor.turn_off(mine, policy=services.settings.handoff_require_2fa)
    audit.record(
        session, actor=mine, action=audit.TOTP_DISABLE, target=mine.username, address=address
    )
    await session.commit()
    return {"second_factor": False}
