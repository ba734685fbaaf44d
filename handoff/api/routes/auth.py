"""Sign-in (bearer token or cookie session with CSRF), sign-out, the agent's own record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from handoff.api.deps import CurrentAgent, ServicesDep, SessionDep
from handoff.api.schemas import Credentials, Presence
from handoff.api.state import Services
from handoff.models import Agent
from handoff.security import CSRF_COOKIE, SESSION_COOKIE
from handoff.services.accounts import authenticate
from handoff.services.views import agent_json

router = APIRouter(prefix="/api", tags=["auth"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _check(
    services: Services, session: SessionDep, request: Request, body: Credentials
) -> Agent:
    key = f"{body.username.lower()}|{_client(request)}"
    if await services.limiter.blocked(key):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(services.settings.handoff_login_window_s)},
        )
    agent = await authenticate(session, body.username, body.password)
    if agent is None:
        await services.limiter.failed(key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    await services.limiter.reset(key)
    return agent


@router.post("/auth/token")
async def token(
    body: Credentials, request: Request, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    """A bearer token for scripts and the Rasa side's tools."""
    agent = await _check(services, session, request, body)
    return {"access_token": services.signer.access_token(agent.username), "token_type": "bearer"}


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
    cookie, csrf = services.signer.session_cookie(agent.username)
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
async def logout(agent: CurrentAgent, response: Response, services: ServicesDep) -> dict[str, bool]:
    """Clears the session cookies and marks the agent offline."""
    await services.conversations.set_presence(agent, online=False)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
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
