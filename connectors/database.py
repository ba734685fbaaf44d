"""The database the connectors share: ``DATABASE_URL``, else a SQLite file.

It holds small, hot records (the intake's inbound messages, WeChat's button
choices, its access token and refused sends), read or written on every
message. On
SQLite each engine keeps its connections open and uses write-ahead logging
with ``synchronous=NORMAL``, SQLite's advice for WAL mode: a commit then
costs no disk flush, readers never wait for the writer, and nothing
committed is lost when a process dies; only a power cut or an operating
system crash may undo the last commits (at worst the messages acknowledged
in the last moment before it, or a button list forgotten). Several processes on one machine may
share the file; replicas on several machines need PostgreSQL or Redis.

Those records are read and written on the event loop when they live in a
SQLite file, and in a thread when they live in a server database
(:func:`run_quick`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot import settings as bot_settings
from bot.settings import Settings

# How long a writer waits for another one before SQLite gives up.
SQLITE_BUSY_TIMEOUT_S = 10.0

T = TypeVar("T")


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` in SQLAlchemy's spelling, else SQLite in the var dir."""
    return bot_settings.database_url(settings, "connectors.db")


def create_engine(url: str) -> Engine:
    """An engine for ``url``; on a SQLite file, pooled and in WAL mode."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return sa.create_engine(url, future=True)
    engine = sa.create_engine(
        url,
        future=True,
        # Calls come from a thread pool; a pooled connection may move between threads.
        poolclass=sa.pool.QueuePool,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
    )
    sa.event.listen(engine, "connect", _use_wal)
    return engine


def _use_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def is_local(engine: Engine) -> bool:
    """Whether ``engine`` works on a file of this machine (SQLite), not over a network."""
    return engine.dialect.name == "sqlite"


async def run_quick(local: bool, call: Callable[..., T], *args: Any) -> T:
    """Runs a short store call: on the event loop if ``local``, else in a thread.

    A claim or lookup in a SQLite file in WAL mode takes well under a
    millisecond (``bench/intake_store.py``), less than a trip through a
    thread: a thread's result comes back through the event loop's queue,
    behind every other conversation's work, which under load is tens of
    milliseconds, and the thread competes with the loop for the GIL. A
    server database or Redis is reached over the network, so its calls
    stay in a thread.
    """
    if local:
        return call(*args)
    return await asyncio.to_thread(call, *args)
