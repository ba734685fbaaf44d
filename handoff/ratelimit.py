"""Failed-login limiter per username and client address: Redis when shared, else in-process."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Protocol

from redis.asyncio import Redis


class LoginLimiter(Protocol):
    """Counts failed logins in a sliding window."""

    async def blocked(self, key: str) -> bool:
        """True when ``key`` has used up its attempts."""

    async def failed(self, key: str) -> None:
        """Counts one failed attempt."""

    async def reset(self, key: str) -> None:
        """Forgets the failures of ``key`` (after a successful login)."""


class MemoryLoginLimiter:
    """In-process limiter for a single replica."""

    def __init__(self, *, attempts: int, window_s: int) -> None:
        self._attempts = attempts
        self._window_s = window_s
        self._failures: dict[str, list[float]] = defaultdict(list)
        self._lock = asyncio.Lock()

    async def blocked(self, key: str) -> bool:
        async with self._lock:
            cutoff = time.monotonic() - self._window_s
            recent = [t for t in self._failures.get(key, []) if t > cutoff]
            self._failures[key] = recent
            return len(recent) >= self._attempts

    async def failed(self, key: str) -> None:
        async with self._lock:
            self._failures[key].append(time.monotonic())

    async def reset(self, key: str) -> None:
        async with self._lock:
            self._failures.pop(key, None)


class RedisLoginLimiter:
    """Limiter shared by every replica: a counter per key that expires with the window."""

    def __init__(self, redis: Redis, *, prefix: str, attempts: int, window_s: int) -> None:
        self._redis = redis
        self._prefix = prefix + "login:"
        self._attempts = attempts
        self._window_s = window_s

    async def blocked(self, key: str) -> bool:
        count = await self._redis.get(self._prefix + key)
        return count is not None and int(count) >= self._attempts

    async def failed(self, key: str) -> None:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self._window_s, nx=True)
            await pipe.execute()

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
