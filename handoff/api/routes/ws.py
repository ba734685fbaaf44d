"""``/api/ws``: live events for the inbox (cookie session or ``?token=``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from handoff.api.deps import agent_for, read_credentials
from handoff.api.state import Services
from handoff.security import SESSION_COOKIE

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

# No valid session or token (HTTP's 401 in the 4000-4999 range applications own): the
# inbox goes straight to the login page instead of reconnecting. Browsers only see a
# close code after the handshake, so these sockets are accepted and closed at once.
UNAUTHORIZED = 4401


async def _refuse_unauthorized(websocket: WebSocket) -> None:
    await websocket.accept()
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
    found, by_cookie = read_credentials(
        services,
        bearer=websocket.query_params.get("token"),
        cookie=websocket.cookies.get(SESSION_COOKIE),
    )
    if found is None:
        await _refuse_unauthorized(websocket)
        return
    if by_cookie and not _same_origin(websocket):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    async with services.sessions() as session:
        if await agent_for(session, found) is None:
            await _refuse_unauthorized(websocket)
            return
    await websocket.accept()
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
