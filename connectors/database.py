"""The database the connectors share: ``DATABASE_URL``, else a SQLite file.

It holds small, hot records (claimed message ids, WeChat's button choices,
its access token and refused sends), read or written on every message. On
SQLite each engine keeps its connections open and uses write-ahead logging
with ``synchronous=NORMAL``, SQLite's advice for WAL mode: a commit then
costs no disk flush, readers never wait for the writer, and nothing
committed is lost when a process dies; only a power cut or an operating
system crash may undo the last commits (at worst one message answered
twice, or a button list forgotten). Several processes on one machine may
share the file; replicas on several machines need PostgreSQL or Redis.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot import settings as bot_settings
from bot.settings import Settings

# How long a writer waits for another one before SQLite gives up.
SQLITE_BUSY_TIMEOUT_S = 10.0


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
