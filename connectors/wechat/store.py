"""What the WeChat connector keeps between requests, shared by every replica.

Three small things: the access token (WeChat invalidates the old token a few
minutes after a new one is fetched, so replicas must share one), the last
buttons sent to each customer (so "1" means the same on every replica), and
the replies WeChat refused (so an agent can see what never arrived). All live
in Redis when ``REDIS_URL`` is set, else in the project's database, next to
the intake's inbound table. The stores are synchronous, like wechatpy;
async code calls them through :func:`connectors.database.run_quick` (on
the event loop for a SQLite file, else in a thread).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.settings import Settings
from connectors.database import create_engine, database_url, is_local

logger = logging.getLogger(__name__)

REDIS_PREFIX = "shop-assistant:wechat"
# A button list answers the customer's next message; an hour is generous.
CHOICES_TTL_S = 3600
# Refused replies kept for agents: the last ones in Redis, a month in SQL.
FAILURES_KEPT = 1000
FAILURES_KEPT_S = 30 * 24 * 3600
# Longest a process waits for another one fetching the access token.
TOKEN_LOCK_TIMEOUT_S = 15

_metadata = sa.MetaData()
_session_table = sa.Table(
    "connector_wechat_session",
    _metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
)
_failures_table = sa.Table(
    "connector_send_failures",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=False, index=True),
    sa.Column("errcode", sa.Integer, nullable=True),
    sa.Column("errmsg", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("failed_at", sa.Float, nullable=False, index=True),
)


class SqlSessionStorage(SessionStorage):
    """wechatpy's session storage in a table: JSON values with an expiry."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when absent or expired."""
        table = _session_table
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(table.c.value, table.c.expires_at).where(table.c.key == key)
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
            return default
        return json.loads(row.value)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Stores ``value`` (JSON) under ``key`` for ``ttl`` seconds, or for good."""
        if value is None:
            return
        table = _session_table
        values = {
            "value": json.dumps(value, ensure_ascii=False),
            "expires_at": time.time() + ttl if ttl else None,
        }
        with self._engine.begin() as connection:
            connection.execute(table.delete().where(table.c.expires_at < time.time()))
            updated = connection.execute(table.update().where(table.c.key == key).values(values))
            if updated.rowcount == 0:
                try:
                    with connection.begin_nested():
                        connection.execute(table.insert().values(key=key, **values))
                except sa.exc.IntegrityError:  # another process inserted it meanwhile
                    connection.execute(table.update().where(table.c.key == key).values(values))

    def delete(self, key: str) -> None:
        """Forgets ``key``."""
        with self._engine.begin() as connection:
            connection.execute(_session_table.delete().where(_session_table.c.key == key))


@dataclass(frozen=True)
class SendFailure:
    """A reply the platform refused, kept so an agent can see what never arrived.

    Attributes:
        channel: ``wechat``.
        recipient: The platform's id of the customer (the openid).
        errcode: The platform's error code; None for network errors.
        errmsg: The platform's error message, or the network error.
        text: What we tried to send.
        failed_at: When it was given up, as a Unix time.
    """

    channel: str
    recipient: str
    errcode: int | None
    errmsg: str
    text: str
    failed_at: float


class SendFailureLog(Protocol):
    """Where refused replies are recorded."""

    def record(self, failure: SendFailure) -> None:
        """Keeps ``failure``."""
        ...

    def recent(self, limit: int = 50, *, recipient: str | None = None) -> list[SendFailure]:
        """The latest failures first, optionally for one recipient."""
        ...


class SqlSendFailureLog:
    """Refused replies in the ``connector_send_failures`` table."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine

    def record(self, failure: SendFailure) -> None:
        """Inserts ``failure`` and drops those older than a month."""
        table = _failures_table
        with self._engine.begin() as connection:
            connection.execute(table.insert().values(**asdict(failure)))
            connection.execute(
                table.delete().where(table.c.failed_at < time.time() - FAILURES_KEPT_S)
            )

    def recent(self, limit: int = 50, *, recipient: str | None = None) -> list[SendFailure]:
        """The latest failures first, optionally for one recipient."""
        table = _failures_table
        query = sa.select(table).order_by(table.c.failed_at.desc(), table.c.id.desc()).limit(limit)
        if recipient is not None:
            query = query.where(table.c.recipient == recipient)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [SendFailure(**{k: v for k, v in row.items() if k != "id"}) for row in rows]


class RedisSendFailureLog:
    """Refused replies in a capped Redis list, newest first."""

    def __init__(self, redis: Any, *, key: str = f"{REDIS_PREFIX}:send-failures") -> None:
        self._redis = redis
        self._key = key

    def record(self, failure: SendFailure) -> None:
        """Pushes ``failure`` and keeps the last :data:`FAILURES_KEPT`."""
        pipeline = self._redis.pipeline()
        pipeline.lpush(self._key, json.dumps(asdict(failure), ensure_ascii=False))
        pipeline.ltrim(self._key, 0, FAILURES_KEPT - 1)
        pipeline.execute()

    def recent(self, limit: int = 50, *, recipient: str | None = None) -> list[SendFailure]:
        """The latest failures first, optionally for one recipient."""
        failures = [SendFailure(**json.loads(raw)) for raw in self._redis.lrange(self._key, 0, -1)]
        if recipient is not None:
            failures = [f for f in failures if f.recipient == recipient]
        return failures[:limit]


class Choices:
    """The payloads of the last buttons sent to each customer, numbered from 1."""

    def __init__(self, storage: SessionStorage) -> None:
        self._storage = storage

    def remember(self, openid: str, payloads: list[str]) -> None:
        """Keeps the payloads of the buttons just sent to ``openid``."""
        self._storage.set(f"choices:{openid}", payloads, CHOICES_TTL_S)

    def take(self, openid: str) -> list[str] | None:
        """The payloads waiting for ``openid``'s answer, forgotten once read."""
        key = f"choices:{openid}"
        payloads = self._storage.get(key)
        if payloads is not None:
            self._storage.delete(key)
        return payloads if isinstance(payloads, list) else None


@dataclass(frozen=True)
class WeChatStores:
    """The stores of one process, built once from the settings.

    Attributes:
        session: wechatpy's session storage (access token, button choices).
        failures: The log of refused replies.
        token_lock: Makes fetching the access token exclusive across processes.
        local: The stores are a file of this machine (SQLite), so a quick
            call may run on the event loop.
    """

    session: SessionStorage
    failures: SendFailureLog
    token_lock: Callable[[], AbstractContextManager[object]]
    local: bool = False

    @property
    def choices(self) -> Choices:
        """The button choices, kept in the session storage."""
        return Choices(self.session)


def stores_from_settings(settings: Settings) -> WeChatStores:
    """Redis when ``REDIS_URL`` is set, else the database (``DATABASE_URL`` or SQLite)."""
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)

        @contextmanager
        def redis_lock() -> Iterator[object]:
            lock = client.lock(
                f"{REDIS_PREFIX}:token-lock",
                timeout=TOKEN_LOCK_TIMEOUT_S,
                blocking_timeout=TOKEN_LOCK_TIMEOUT_S,
            )
            acquired = lock.acquire()
            if not acquired:
                logger.warning(
                    "no access-token lock after %s s; fetching anyway", TOKEN_LOCK_TIMEOUT_S
                )
            try:
                yield lock
            finally:
                if acquired:
                    try:
                        lock.release()
                    except redis.exceptions.LockError:
                        logger.warning("the access-token lock expired before it was released")

        return WeChatStores(
            session=RedisStorage(client, prefix=REDIS_PREFIX),
            failures=RedisSendFailureLog(client),
            token_lock=redis_lock,
        )
    engine = create_engine(database_url(settings))
    _metadata.create_all(engine)
    # One machine without Redis: a process-wide lock is the best we have.
    lock = threading.Lock()
    return WeChatStores(
        session=SqlSessionStorage(engine),
        failures=SqlSendFailureLog(engine),
        token_lock=lambda: lock,
        local=is_local(engine),
    )


def send_failures_from_settings(settings: Settings) -> SendFailureLog:
    """The log of refused replies, for the handoff service to show agents."""
    return stores_from_settings(settings).failures
