"""The ``message_counts`` roll-up, kept as each message is inserted.

:func:`register` attaches :func:`count_message` to ``Message`` inserts; the
app calls it when it is built (``handoff.api.app.create_app``), and so does
any program that inserts messages through the ORM outside the app.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, event, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from handoff.models import Conversation, Message, MessageCount, MessageRole, bucket_of


def count_message(_mapper: Any, connection: Connection, message: Message) -> None:
    """Adds an inserted message to its :class:`MessageCount` row, in the same transaction."""
    if message.role == MessageRole.ACTIVITY:
        return
    upsert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    confidence = message.confidence
    values = select(
        literal(bucket_of(message.created_at), DateTime(timezone=True)),
        Conversation.channel,
        literal(str(message.role)),
        literal(message.intent or ""),
        literal(1),
        literal(float(confidence or 0.0)),
        literal(0 if confidence is None else 1),
    ).where(Conversation.id == message.conversation_id)
    statement = upsert(MessageCount).from_select(
        [
            "bucket_start",
            "channel",
            "role",
            "intent",
            "messages",
            "confidence_sum",
            "confidence_count",
        ],
        values,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["bucket_start", "channel", "role", "intent"],
        set_={
            "messages": MessageCount.messages + statement.excluded.messages,
            "confidence_sum": MessageCount.confidence_sum + statement.excluded.confidence_sum,
            "confidence_count": MessageCount.confidence_count + statement.excluded.confidence_count,
        },
    )
    connection.execute(statement)


def register() -> None:
    """Keeps ``message_counts`` up to date on every ``Message`` insert (idempotent)."""
    if not event.contains(Message, "after_insert", count_message):
        event.listen(Message, "after_insert", count_message)
