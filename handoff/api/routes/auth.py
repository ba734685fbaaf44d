"""Sign-in (bearer token or cookie session with CSRF), sign-out, the agent's own record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from handoff.api.client_address import client_address
from handoff.api.deps import ClientAddress, CurrentAgent, ServicesDep, SessionDep
from handoff.api.schemas import Credentials, PasswordChange, Presence
from handoff.api.state import Services
from handoff.models import Agent
from handoff.security import CSRF_COOKIE, SESSION_COOKIE, HasherBusy
from handoff.services import audit, second_factor
from handoff.services.account_changes import change_own_password, end_sessions
from handoff.services.accounts import authenticate
from handoff.services.views import agent_json

router = APIRouter(prefix="/api", tags=["auth"])


def _too_many(message: str, retry_after_s: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, message, headers={"Retry-After": str(retry_after_s)}
    )


async def _check(
    services: Services, session: SessionDep, request: Request, body: Credentials
) -> Agent:
    # Counted before the password is checked, so concurrent guesses cannot race the limit.
    address = client_address(request, services.settings.trusted_proxies)
    if not await services.limiter.admit(body.username, address):
        raise _too_many(
            "too many sign-in attempts; try again later", services.limiter.limits.window_s
        )
    try:
        agent = await authenticate(session, body.username, body.password, pool=services.passwords)
    except HasherBusy as error:
        raise _too_many("too many sign-ins at once; try again in a moment", 1) from error
    if agent is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    await _second_factor(services, session, agent, body.code, address[:64])
    await services.limiter.succeeded(body.username, address)
    return agent


def _code_needed(message: str, kind: str) -> HTTPException:
    # X-Second-Factor says what the login page must ask for: a code, or an enrolment.
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"X-Second-Factor": kind})


async def _second_factor(
    services: Services, session: SessionDep, agent: Agent, code: str | None, address: str
) -> None:
    """Asks for, checks and records the one-time code when the account needs one.

    A wrong code stays counted by the sign-in limiter like a wrong password.
    """
    policy = services.settings.handoff_require_2fa
    if second_factor.enabled(agent):
        if code is None:
            raise _code_needed("enter the 6-digit code from your authenticator app", "required")
        if await second_factor.check_code(session, agent, code):
            await session.commit()
            return
    elif second_factor.required(agent, policy):
        if code is not None and await second_factor.confirm(session, agent, code):
            audit.record(
                session,
                actor=agent,
                action=audit.TOTP_ENABLE,
                target=agent.username,
                address=address,
            )
            await session.commit()
            return
        if code is None:
            raise _code_needed(
                "admins must set up a second factor: POST /api/auth/totp/enrol, then sign in "
                "with a code",
                "enrol",
            )
    else:
        return
    audit.record(
        session, actor=agent, action=audit.TOTP_REFUSED, target=agent.username, address=address
    )
    await session.commit()
    kind = "required" if second_factor.enabled(agent) else "enrol"
    raise _code_needed("wrong or already used one-time code", kind)


@router.post("/auth/token")
async def token(
    body: Credentials, request: Request, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    """A bearer token for scripts and the Rasa side's tools."""
    agent = await _check(services, session, request, body)
    return {
        "access_token": services.signer.access_token(agent.username, agent.token_version),
        "token_type": "bearer",
    }


@router.post("/auth/login")
async def login(
    body: Credentials,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Sets the HttpOnly session cookie; state-changing calls must echo ``csrf_token``."""
    agent = await _check(services, session, request, body)
    cookie, csrf = services.signer.session_cookie(agent.username, agent.token_version)
    secure = services.settings.production
    ttl = services.settings.handoff_session_ttl_s
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    # Readable by the page so a reload can still send X-CSRF-Token (double submit).
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=ttl, httponly=False, samesite="strict", secure=secure, path="/"
    )
    return {"csrf_token": csrf, "agent": agent_json(agent)}


@router.post("/auth/logout")
async def logout(
    agent: CurrentAgent, response: Response, services: ServicesDep, session: SessionDep
) -> dict[str, bool]:
    """Ends every session of the agent (cookies and bearer tokens) and marks it offline."""
    await services.conversations.set_presence(agent, online=False)
    await end_sessions(session, agent.id)
    await session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.post("/me/password")
async def change_password(
    body: PasswordChange,
    agent: CurrentAgent,
    services: ServicesDep,
    session: SessionDep,
    address: ClientAddress,
) -> dict[str, bool]:
    """A new password (the current one required); every session ends, sign in again."""
    await change_own_password(
        session,
        agent,
        current=body.current_password,
        new=body.new_password,
        pool=services.passwords,
    )
    audit.record(
        session, actor=agent, action=audit.PASSWORD_CHANGE, target=agent.username, address=address
    )
    await session.commit()
    return {"ok": True}


@router.get("/me")
async def me(agent: CurrentAgent) -> dict[str, Any]:
    """``{"username","role","skills","online","capacity"}``."""
    return agent_json(agent)


@router.post("/me/presence")
async def presence(body: Presence, agent: CurrentAgent, services: ServicesDep) -> dict[str, Any]:
    """Goes on- or offline; online agents receive conversations automatically."""
    updated = await services.conversations.set_presence(agent, online=body.online)
    return agent_json(updated)
