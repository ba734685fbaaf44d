"""Sign-in limiter: attempts are counted atomically *before* a password is checked.

Each attempt counts against three keys — the username, the client address and
all sign-ins together — each with its own limit per window. Counting first
means a burst of concurrent guesses cannot all slip past a check that has not
yet seen the others' failures. Redis (``INCR`` plus an expiry, shared by every
replica) when configured, else one atomic upsert in the service's database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class Counter(Protocol):
    """Counters that restart after a window."""

    async def hit(self, name: str, window_s: int) -> int:
        """Adds one to ``name`` and returns its count in the current window."""

    async def refund(self, name: str) -> None:
        """Takes one back (an attempt that turned out legitimate)."""

    async def reset(self, name: str) -> None:
        """Forgets ``name``."""


class RedisCounter:
    """``INCR`` with an expiry set on the first hit: atomic across replicas."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "login:"

    async def hit(self, name: str, window_s: int) -> int:
        key = self._prefix + name
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def refund(self, name: str) -> None:
        key = self._prefix + name
        # Only while the key lives, so a refund cannot create a negative counter.
        await self._redis.eval(
            "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end",
            1,
            key,
        )

    async def reset(self, name: str) -> None:
        await self._redis.delete(self._prefix + name)


_UPSERT = text(
    "INSERT INTO login_counters (name, hits, expires_at) VALUES (:name, 1, :ends) "
    "ON CONFLICT (name) DO UPDATE SET "
    "hits = CASE WHEN login_counters.expires_at <= :now THEN 1 "
    "ELSE login_counters.hits + 1 END, "
    "expires_at = CASE WHEN login_counters.expires_at <= :now THEN :ends "
    "ELSE login_counters.expires_at END "
    "RETURNING hits"
)


class DatabaseCounter:
    """One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per hit: the row is locked
    while it is incremented, so concurrent attempts (and replicas) each see their own
    count. PostgreSQL and SQLite (3.35+) both speak this statement."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def hit(self, name: str, window_s: int) -> int:
        now = time.time()
        async with self._sessions.begin() as session:
            count = await session.scalar(
                _UPSERT, {"name": name, "ends": now + window_s, "now": now}
            )
        return int(count or 0)

    async def refund(self, name: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                text("UPDATE login_counters SET hits = hits - 1 WHERE name = :name AND hits > 0"),
                {"name": name},
            )

    async def reset(self, name: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                text("DELETE FROM login_counters WHERE name = :name"), {"name": name}
            )


@dataclass(frozen=True)
class LoginLimits:
    """Attempts allowed per window for one username, one address and everyone."""

    per_username: int
    per_address: int
    overall: int
    window_s: int


class LoginLimiter:
    """Admits or refuses a sign-in attempt before the password is checked."""

    def __init__(self, counter: Counter, limits: LoginLimits) -> None:
        self._counter = counter
        self.limits = limits

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str, str]:
        return f"user:{username.casefold()}", f"addr:{address}", "all"

    async def admit(self, username: str, address: str) -> bool:
        """Counts the attempt against every key; False when any is over its limit."""
        user, addr, overall = self._keys(username, address)
        window = self.limits.window_s
        counts = (
            await self._counter.hit(user, window),
            await self._counter.hit(addr, window),
            await self._counter.hit(overall, window),
        )
        limits = (self.limits.per_username, self.limits.per_address, self.limits.overall)
        return all(count <= limit for count, limit in zip(counts, limits, strict=True))

    async def succeeded(self, username: str, address: str) -> None:
        """A correct password: forget the username's failures, give back the rest."""
        user, addr, overall = self._keys(username, address)
        await self._counter.reset(user)
        await self._counter.refund(addr)
        await self._counter.refund(overall)
