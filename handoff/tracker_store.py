"""Rasa's SQL tracker store, read and pruned for customers' rights and retention.

Rasa keeps every tracker event in one table, ``events`` (``id``, ``sender_id``,
``type_name``, ``timestamp``, ``intent_name``, ``action_name``, ``data`` — the
event as JSON text), in the database ``endpoints.yml`` names: ``DATABASE_URL``
when set, else ``var/rasa.db`` (``bot/runtime/serve.py``). Rasa's HTTP API can
read a tracker but not delete one, so erasure goes to the table itself.

Built in the app's lifespan (``from_settings``), closed there; no module-level
engine.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from handoff.settings import Settings

logger = logging.getLogger(__name__)

_metadata = MetaData()
# Rasa 3.6's ``SQLTrackerStore.SQLEvent``; only read and deleted here, never created.
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class TrackerStore:
    """The ``events`` table of Rasa's SQL tracker store.

    Args:
        url: an async SQLAlchemy URL (``sqlite+aiosqlite://…``,
            ``postgresql+psycopg://…``).
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._sqlite_file = (
            Path(parsed.database)
            if parsed.get_backend_name() == "sqlite" and parsed.database
            else None
        )
        self._engine: AsyncEngine = create_async_engine(
            url,
            # Rasa writes the same SQLite file: wait for its lock rather than fail.
            **(
                {"connect_args": {"timeout": 10}}
                if self._sqlite_file
                else {"pool_size": 2, "max_overflow": 2}
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TrackerStore:
        """The store at ``HANDOFF_TRACKER_STORE_URL`` (default: Rasa's own, see settings)."""
        return cls(settings.tracker_store)

    async def aclose(self) -> None:
        """Closes the engine's connections."""
        await self._engine.dispose()

    async def _exists(self, connection: AsyncConnection) -> bool:
        return await connection.run_sync(lambda sync: sync.dialect.has_table(sync, EVENTS.name))

    def _absent(self) -> bool:
        # An embedded Rasa that never ran has no file: nothing is held, and none is made.
        return self._sqlite_file is not None and not self._sqlite_file.is_file()

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every stored event of ``conversation_id``, oldest first, as Rasa serialised it."""
        if self._absent():
            return []
        async with self._engine.connect() as connection:
            if not await self._exists(connection):
                return []
            rows = await connection.execute(
                select(EVENTS.c.data)
                .where(EVENTS.c.sender_id == conversation_id)
                .order_by(EVENTS.c.timestamp, EVENTS.c.id)
            )
            return [_parsed(data) for (data,) in rows]

    async def erase(self, conversation_id: str) -> int:
        """Deletes every event of ``conversation_id``; returns how many there were."""
        if self._absent():
            return 0
        async with self._engine.begin() as connection:
            if not await self._exists(connection):
                return 0
            result = await connection.execute(
                delete(EVENTS).where(EVENTS.c.sender_id == conversation_id)
            )
            return int(result.rowcount or 0)

    async def idle_since(self, before_ts: float) -> list[str]:
        """Conversations whose newest event is older than ``before_ts`` (Unix seconds)."""
        if self._absent():
            return []
        async with self._engine.connect() as connection:
            if not await self._exists(connection):
                return []
            rows = await connection.execute(
                select(EVENTS.c.sender_id)
                .group_by(EVENTS.c.sender_id)
                .having(func.max(EVENTS.c.timestamp) < before_ts)
            )
            return [sender for (sender,) in rows]


def _parsed(data: str | None) -> dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except json.JSONDecodeError:
        logger.warning("a tracker event is not JSON; exported as text")
        return {"unparsed": data}
    return value if isinstance(value, dict) else {"value": value}
