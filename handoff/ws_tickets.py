"""One-time tickets that open the live WebSocket without a token in its URL.

A signed-in caller asks for a ticket (``POST /api/ws/tickets``) and offers it as a
WebSocket subprotocol (``Sec-WebSocket-Protocol: handoff, ticket.<ticket>``), so it
never reaches an access log. A ticket opens one socket, within ``ttl_s`` seconds.
Kept in Redis when configured (any replica may redeem it, ``GETDEL`` makes the
single use atomic), else in this process's memory.
"""

from __future__ import annotations

import secrets
import time

from redis.asyncio import Redis

from handoff.security import Session

TICKET_TTL_S = 30
_MAX_IN_MEMORY = 10_000


class TicketBook:
    """Issues tickets naming an account at a token version, and redeems each once."""

    def __init__(self, redis: Redis | None, *, prefix: str, ttl_s: int = TICKET_TTL_S) -> None:
        self._redis = redis
        self._prefix = prefix + "ws-ticket:"
        self.ttl_s = ttl_s
        self._memory: dict[str, tuple[str, float]] = {}

    async def issue(self, username: str, version: int) -> str:
        """A fresh ticket for ``username`` whose sessions are at ``version``."""
        ticket = secrets.token_urlsafe(32)
        value = f"{version}:{username}"
        if self._redis is not None:
            await self._redis.set(self._prefix + ticket, value, ex=self.ttl_s)
            return ticket
        now = time.monotonic()
        self._memory = {t: kept for t, kept in self._memory.items() if kept[1] > now}
        if len(self._memory) >= _MAX_IN_MEMORY:
            self._memory.pop(next(iter(self._memory)))
        self._memory[ticket] = (value, now + self.ttl_s)
        return ticket

    async def redeem(self, ticket: str) -> Session | None:
        """The session a ticket stands for, once; None when unknown, used or expired."""
        if not ticket or len(ticket) > 128:
            return None
        if self._redis is not None:
            raw = await self._redis.getdel(self._prefix + ticket)
            value = raw.decode() if isinstance(raw, bytes) else raw
        else:
            kept = self._memory.pop(ticket, None)
            value = kept[0] if kept and kept[1] > time.monotonic() else None
        if not value:
            return None
        version, _, username = str(value).partition(":")
        return Session(username=username, csrf=None, version=int(version))
