"""``/api/ws``: live events for the inbox (cookie session or a one-time ticket).

No credential ever travels in the URL (access logs keep URLs): browsers on the
inbox's origin use their session cookie; other clients ask for a ticket with
``POST /api/ws/tickets`` and offer the subprotocols ``handoff`` and
``ticket.<ticket>``; the service answers with ``handoff``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from handoff.api.deps import CurrentAgent, ServicesDep, agent_for, read_credentials
from handoff.api.state import Services
from handoff.security import SESSION_COOKIE, Session

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

# No valid session or token (HTTP's 401 in the 4000-4999 range applications own): the
# inbox goes straight to the login page instead of reconnecting. Browsers only see a
# close code after the handshake, so these sockets are accepted and closed at once.
UNAUTHORIZED = 4401
SUBPROTOCOL = "handoff"
_TICKET_PREFIX = "ticket."


@router.post("/api/ws/tickets", status_code=status.HTTP_201_CREATED)
async def ticket(agent: CurrentAgent, services: ServicesDep) -> dict[str, str | int]:
    """A single-use ticket that opens ``/api/ws`` within ``expires_in`` seconds."""
    issued = await services.tickets.issue(agent.username, agent.token_version)
    return {"ticket": issued, "expires_in": services.tickets.ttl_s}


def _offered_ticket(websocket: WebSocket) -> str | None:
    offered: list[str] = websocket.scope.get("subprotocols") or []
    for protocol in offered:
        if protocol.startswith(_TICKET_PREFIX):
            return protocol.removeprefix(_TICKET_PREFIX)
    return None


async def _refuse_unauthorized(websocket: WebSocket, subprotocol: str | None = None) -> None:
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=UNAUTHORIZED, reason="sign in again")


def _same_origin(websocket: WebSocket) -> bool:
    # Cookie sessions: refuse pages of other sites (cross-site WebSocket hijacking).
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host")


@router.websocket("/api/ws")
async def live(websocket: WebSocket) -> None:
    """Pushes ``{"type", "conversation", "message"?}`` for every event from now on."""
    services: Services = websocket.app.state.services
    offered = _offered_ticket(websocket)
    subprotocol = SUBPROTOCOL if offered is not None else None
    found: Session | None
    if offered is not None:
        found, by_cookie = await services.tickets.redeem(offered), False
    else:
        found, by_cookie = read_credentials(
            services, bearer=None, cookie=websocket.cookies.get(SESSION_COOKIE)
        )
    if found is None:
        await _refuse_unauthorized(websocket, subprotocol)
        return
    if by_cookie and not _same_origin(websocket):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    async with services.sessions() as session:
        if await agent_for(session, found) is None:
            await _refuse_unauthorized(websocket, subprotocol)
            return
    await websocket.accept(subprotocol=subprotocol)
    queue = services.hub.subscribe()

    async def drain_client() -> None:
        # The client sends nothing we need; reading notices when it goes away.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    reader = asyncio.create_task(drain_client())
    try:
        while not reader.done():
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            await websocket.send_json(getter.result())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        services.hub.unsubscribe(queue)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reader
