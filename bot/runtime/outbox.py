"""The embedded event stream: a durable outbox table next to Rasa's tracker store.

Rasa's events for the handoff service are written here (one row per event,
committed before :meth:`Outbox.append` returns) and removed once the service
has taken them, so neither a Rasa restart nor a handoff service that is down
loses one. The table lives in the tracker store's database: the SQLite file
``var/rasa.db`` embedded, PostgreSQL with ``DATABASE_URL``. Rows are read in
``id`` order, which is the order Rasa produced the events.

With several Rasa replicas on one PostgreSQL database, only the replica that
holds a PostgreSQL advisory lock drains the table (:meth:`Outbox.drainer`),
so the events of every conversation leave in one order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

TABLE = "handoff_outbox"
# Any fixed number: the advisory lock naming "the outbox drainer".
_DRAIN_LOCK_KEY = 7_151_515

_metadata = sa.MetaData()
outbox = sa.Table(
    TABLE,
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sqlite_autoincrement=True,  # ids are never reused, so id order is publish order
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: the tracker store and the outbox write the same file without blocking readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still survives any crash of the process (a SIGKILL of
    # Rasa); only a power cut may undo the last commits. FULL fsyncs every event.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Outbox:
    """The outbox table at ``url`` (a SQLAlchemy URL; created when missing)."""

    def __init__(self, url: str) -> None:
        self._sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"future": True}
        if self._sqlite:
            # A kept connection: SQLAlchemy 1.4 would open the file (and set WAL) per use.
            options["connect_args"] = {"check_same_thread": False}
            options["poolclass"] = sa.pool.QueuePool
        else:
            options["pool_pre_ping"] = True
        self._engine: Engine = sa.create_engine(url, **options)
        if self._sqlite:
            sa.event.listen(self._engine, "connect", _sqlite_pragmas)
        _metadata.create_all(self._engine)

    def append(self, bodies: list[tuple[str | None, str]]) -> None:
        """Stores events (``(sender_id, JSON body)``), committed when this returns."""
        if not bodies:
            return
        with self._engine.begin() as connection:
            connection.execute(
                outbox.insert(), [{"sender_id": sender, "body": body} for sender, body in bodies]
            )

    def head(self, limit: int) -> list[tuple[int, str]]:
        """The oldest ``limit`` events, as ``(id, JSON body)``."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(outbox.c.id, outbox.c.body).order_by(outbox.c.id).limit(limit)
            )
            return [(row.id, row.body) for row in rows]

    def remove(self, ids: list[int]) -> None:
        """Removes delivered (or refused) events."""
        if not ids:
            return
        with self._engine.begin() as connection:
            connection.execute(outbox.delete().where(outbox.c.id.in_(ids)))

    def count(self) -> int:
        """Events waiting."""
        with self._engine.connect() as connection:
            return int(connection.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)

    @contextlib.contextmanager
    def drainer(self) -> Iterator[bool]:
        """Whether this process may drain now (always on SQLite; one replica on PostgreSQL).

        On PostgreSQL the lock is held by a connection kept open for the block:
        if this process dies, the lock goes with its connection.
        """
        if self._sqlite:
            yield True
            return
        connection: Connection = self._engine.connect()
        try:
            held = bool(connection.scalar(sa.select(sa.func.pg_try_advisory_lock(_DRAIN_LOCK_KEY))))
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.scalar(sa.select(sa.func.pg_advisory_unlock(_DRAIN_LOCK_KEY)))
                    connection.commit()
        finally:
            connection.close()

    def dispose(self) -> None:
        """Closes the database connections."""
        self._engine.dispose()
