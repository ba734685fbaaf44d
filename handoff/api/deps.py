"""Dependencies as ``Annotated`` aliases: ``SessionDep``, ``CurrentAgent``, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.api.client_address import client_address
from handoff.api.state import Services
from handoff.models import Agent, Role
from handoff.security import CSRF_HEADER, SESSION_COOKIE, Session, same_secret

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/token")


async def get_services(request: Request) -> Services:
    """The app's shared services.

    ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a worker
    thread, a thread hop per request for nothing.
    """
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One database session per request."""
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_client_address(request: Request, services: ServicesDep) -> str:
    """The client's address as the access records keep it (trusted proxies honoured)."""
    return client_address(request, services.settings.trusted_proxies)[:64]


ClientAddress = Annotated[str, Depends(get_client_address)]


def read_credentials(
    services: Services, *, bearer: str | None, cookie: str | None
) -> tuple[Session | None, bool]:
    """The session behind a bearer token or a session cookie, and whether it was the cookie."""
    if bearer:
        return services.signer.read_token(bearer), False
    if cookie:
        return services.signer.read_session(cookie), True
    return None, False


async def agent_for(session: AsyncSession, found: Session) -> Agent | None:
    """The account a signed session names, if it exists, is active and was not signed out.

    Logout, a password change and disabling bump the account's ``token_version``;
    tokens and cookies issued before then carry an older one and end here.
    """
    agent = await session.scalar(select(Agent).where(Agent.username == found.username))
    if agent is None or not agent.active or agent.token_version != found.version:
        return None
    return agent


async def current_agent(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Agent:
    """The signed-in agent (bearer token or session cookie; cookies need the CSRF header)."""
    found, by_cookie = read_credentials(
        services,
        bearer=credentials.credentials if credentials else None,
        cookie=request.cookies.get(SESSION_COOKIE),
    )
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in first", headers={"WWW-Authenticate": "Bearer"}
        )
    if (
        by_cookie
        and request.method in UNSAFE_METHODS
        and not (found.csrf and same_secret(request.headers.get(CSRF_HEADER), found.csrf))
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token header")
    agent = await agent_for(session, found)
    # End the lookup's transaction: the connection goes back to the pool. Held for the
    # whole request (idle in transaction) while the service opens sessions of its own,
    # a burst of pool-size requests deadlocked the pool (bench/handoff_latency.py).
    await session.commit()
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this session has ended; sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.session = found
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Agent]]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    async def check(agent: CurrentAgent) -> Agent:
        if agent.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the role {' or '.join(r.value for r in roles)}",
            )
        return agent

    return check


Handler = Annotated[Agent, Depends(require_roles(Role.AGENT, Role.ADMIN))]
Admin = Annotated[Agent, Depends(require_roles(Role.ADMIN))]


async def service_caller(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """``/api/internal/*``: the shared service token, compared in constant time (else 403)."""
    given = credentials.credentials if credentials else None
    if not same_secret(given, services.settings.service_token()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong or missing service token")


ServiceCaller = Annotated[None, Depends(service_caller)]
