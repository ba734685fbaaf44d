"""The inbound table: every platform message, from its acknowledgement until it is done.

One row per platform message, keyed by the platform's id of it (Telegram's
``update_id``, WeChat's ``MsgId``, the web chat's message id), so a retry of
the message finds its key taken: this is also the connectors' de-duplication.
A row is *pending* until Rasa has handled the message (``done_at``). While a
process works on it, it holds a lease (``lease_owner``, ``lease_until``) that
it renews; a row whose lease ran out is free for any process to take up.
Within a conversation, rows are taken in the platform's order (``position``,
then arrival). Done rows are kept for a day, as long as platforms retry.

The calls are synchronous and short; :func:`connectors.database.run_quick`
says where they run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from connectors.database import create_engine, is_local

# Platforms stop retrying within minutes; a day leaves a wide margin.
REMEMBER_FOR_S = 24 * 3600
# Done rows older than that are deleted at most this often.
PRUNE_EVERY_S = 60.0
# Wide enough for any platform's message id with its prefix.
MAX_KEY_CHARS = 200
MAX_REASON_CHARS = 500

metadata = sa.MetaData()
inbound = sa.Table(
    "connector_inbound",
    metadata,
    sa.Column("key", sa.String(MAX_KEY_CHARS), primary_key=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("position", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("tries", sa.Integer, nullable=False, default=0),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("sent", sa.Integer, nullable=False, default=0),
    sa.Column("done_at", sa.Float, nullable=True),
    sa.Column("outcome", sa.String(MAX_REASON_CHARS), nullable=True),
    sa.Index("ix_connector_inbound_pending", "channel", "done_at", "conversation_id"),
    sa.Index("ix_connector_inbound_done_at", "done_at"),
)


def _insert_unless_stored(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` where the database has it, else None."""
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(inbound).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(inbound).on_conflict_do_nothing(index_elements=["key"])
    return None


def position(*numbers: int) -> str:
    """A sortable text of the platform's numbering (each number zero-padded to 20 digits)."""
    return "".join(f"{max(number, 0):020d}"[-20:] for number in numbers)


@dataclass(frozen=True)
class Received:
    """A message as a connector parsed it, to be stored."""

    key: str
    channel: str
    conversation_id: str
    position: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Stored:
    """A pending message as the intake processes it.

    Attributes:
        tries: How often processing was started, this time included; more
            than one means an earlier try may have finished unrecorded.
        failures: How often processing failed for a reason of its own.
        sent: Replies to it that reached the platform (an earlier run's).
    """

    key: str
    conversation_id: str
    payload: dict[str, Any]
    received_at: float
    tries: int
    failures: int
    sent: int = 0


class InboundStore:
    """The ``connector_inbound`` table of the connectors' database."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url)
        metadata.create_all(self._engine)
        self.local = is_local(self._engine)
        self._pruned_at = 0.0

    def add(self, message: Received, *, owner: str, lease_s: float) -> bool:
        """Stores ``message``, leased to ``owner``; False when its key was stored before."""
        now = time.time()
        with self._engine.begin() as connection:
            if now - self._pruned_at >= PRUNE_EVERY_S:
                self._pruned_at = now
                connection.execute(inbound.delete().where(inbound.c.done_at < now - REMEMBER_FOR_S))
            values = {
                "key": message.key,
                "channel": message.channel,
                "conversation_id": message.conversation_id,
                "position": message.position,
                "payload": json.dumps(message.payload, ensure_ascii=False),
                "received_at": now,
                "lease_owner": owner,
                "lease_until": now + lease_s,
                "tries": 0,
                "failures": 0,
                "sent": 0,
            }
            insert = _insert_unless_stored(self._engine.dialect.name)
            if insert is not None:
                return connection.execute(insert.values(**values)).rowcount == 1
            try:
                with connection.begin_nested():
                    connection.execute(inbound.insert().values(**values))
            except sa.exc.IntegrityError:
                return False
        return True

    def take_next(
        self, channel: str, conversation_id: str, *, owner: str, lease_s: float
    ) -> Stored | bool:
        """Leases the conversation's first pending message to ``owner``.

        Returns:
            The message; False when nothing is pending; True when the first
            pending message is leased to another process (it must finish first).
        """
        now = time.time()
        with self._engine.begin() as connection:
            row = connection.execute(
                sa.select(inbound)
                .where(
                    inbound.c.channel == channel,
                    inbound.c.conversation_id == conversation_id,
                    inbound.c.done_at.is_(None),
                )
                .order_by(inbound.c.position, inbound.c.received_at, inbound.c.key)
                .limit(1)
            ).first()
            if row is None:
                return False
            taken = connection.execute(
                inbound.update()
                .where(
                    inbound.c.key == row.key,
                    inbound.c.done_at.is_(None),
                    sa.or_(
                        inbound.c.lease_owner == owner,
                        inbound.c.lease_until.is_(None),
                        inbound.c.lease_until < now,
                    ),
                )
                .values(lease_owner=owner, lease_until=now + lease_s, tries=inbound.c.tries + 1)
            )
            if taken.rowcount != 1:
                return True
        return Stored(
            key=row.key,
            conversation_id=row.conversation_id,
            payload=json.loads(row.payload),
            received_at=row.received_at,
            tries=row.tries + 1,
            failures=row.failures,
            sent=row.sent,
        )

    def renew(self, key: str, *, owner: str, lease_s: float) -> bool:
        """Extends ``owner``'s lease; False when it lost the message."""
        with self._engine.begin() as connection:
            result = connection.execute(
                inbound.update()
                .where(inbound.c.key == key, inbound.c.lease_owner == owner)
                .values(lease_until=time.time() + lease_s)
            )
        return result.rowcount == 1

    def finish(self, key: str, outcome: str = "handled") -> None:
        """Marks the message done (``outcome`` says how) and frees its lease."""
        with self._engine.begin() as connection:
            connection.execute(
                inbound.update()
                .where(inbound.c.key == key)
                .values(
                    done_at=time.time(),
                    outcome=outcome[:MAX_REASON_CHARS],
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def count_sent(self, key: str) -> None:
        """Counts one more reply to the message sent to the platform."""
        with self._engine.begin() as connection:
            connection.execute(
                inbound.update().where(inbound.c.key == key).values(sent=inbound.c.sent + 1)
            )

    def failed(self, key: str) -> int:
        """Counts a failure of the message's own; returns how many it has had."""
        with self._engine.begin() as connection:
            connection.execute(
                inbound.update().where(inbound.c.key == key).values(failures=inbound.c.failures + 1)
            )
            count = connection.execute(
                sa.select(inbound.c.failures).where(inbound.c.key == key)
            ).scalar_one()
        return int(count)

    def is_done(self, key: str) -> bool:
        """Whether the message was handled (or given up); False for an unknown key."""
        with self._engine.connect() as connection:
            done_at = connection.execute(
                sa.select(inbound.c.done_at).where(inbound.c.key == key)
            ).scalar_one_or_none()
        return done_at is not None

    def due(self, channel: str, *, limit: int = 500) -> list[str]:
        """Conversations with a pending message that no process holds."""
        now = time.time()
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.conversation_id)
                .where(
                    inbound.c.channel == channel,
                    inbound.c.done_at.is_(None),
                    sa.or_(inbound.c.lease_until.is_(None), inbound.c.lease_until < now),
                )
                .group_by(inbound.c.conversation_id)
                .order_by(sa.func.min(inbound.c.received_at))
                .limit(limit)
            ).all()
        return [row.conversation_id for row in rows]

    def pending_conversations(self) -> list[str]:
        """Conversations with a pending message, of any channel (tests, health)."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(inbound.c.conversation_id)
                .where(inbound.c.done_at.is_(None))
                .group_by(inbound.c.conversation_id)
            ).all()
        return [row.conversation_id for row in rows]

    def counts(self, channel: str | None = None) -> dict[str, int]:
        """Pending and done messages (tests, benchmarks, health)."""
        query = sa.select(inbound.c.done_at.is_(None).label("pending"), sa.func.count())
        if channel is not None:
            query = query.where(inbound.c.channel == channel)
        with self._engine.connect() as connection:
            rows = connection.execute(query.group_by(inbound.c.done_at.is_(None))).all()
        found = {bool(pending): int(count) for pending, count in rows}
        return {"pending": found.get(True, 0), "done": found.get(False, 0)}
