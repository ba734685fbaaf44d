"""Remembering which platform messages were already accepted.

Platforms retry webhooks (WeChat three times with the same ``MsgId``,
Telegram until it gets a 2xx), so each message id is claimed once: in Redis
when ``REDIS_URL`` is set, so every replica sees it, else in the database.
"""

from __future__ import annotations

import time
from typing import Protocol

import sqlalchemy as sa

from bot.settings import Settings
from connectors.database import create_engine, database_url, is_local, run_quick

# Platforms stop retrying within minutes; a day leaves a wide margin.
REMEMBER_FOR_S = 24 * 3600
# Ids older than that are deleted by a claim at most this often.
PRUNE_EVERY_S = 60.0


class SeenMessages(Protocol):
    """Claims message ids; only the first claim of an id succeeds."""

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed, False for any retry."""
        ...


class RedisSeenMessages:
    """Message ids in Redis (``SET NX EX``), shared by replicas."""

    def __init__(self, url: str, *, prefix: str = "shop-assistant:seen:") -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.Redis.from_url(url)
        self._prefix = prefix

    async def claim(self, key: str) -> bool:
        """Atomically sets the key if absent."""
        return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=REMEMBER_FOR_S))


class SqlSeenMessages:
    """Message ids in a table of the project's database (SQLite by default)."""

    _metadata = sa.MetaData()
    _table = sa.Table(
        "connector_seen_messages",
        _metadata,
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False, index=True),
    )

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url)
        self._metadata.create_all(self._engine)
        self._local = is_local(self._engine)
        self._pruned_at = 0.0

    async def claim(self, key: str) -> bool:
        """Inserts the key; a primary-key clash means it was seen before."""
        return await run_quick(self._local, self._claim, key)

    def _claim(self, key: str) -> bool:
        now = time.time()
        with self._engine.begin() as connection:
            if now - self._pruned_at >= PRUNE_EVERY_S:
                self._pruned_at = now
                connection.execute(
                    self._table.delete().where(self._table.c.seen_at < now - REMEMBER_FOR_S)
                )
            try:
                with connection.begin_nested():
                    connection.execute(self._table.insert().values(key=key, seen_at=now))
            except sa.exc.IntegrityError:
                return False
        return True


def seen_messages_from_settings(settings: Settings) -> SeenMessages:
    """Redis when configured, else the database (``DATABASE_URL`` or SQLite)."""
    if settings.redis_url:
        return RedisSeenMessages(settings.redis_url)
    return SqlSeenMessages(database_url(settings))
