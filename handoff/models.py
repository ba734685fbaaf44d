"""The service's tables as SQLAlchemy 2 typed mapped classes.

The schema itself is owned by the Alembic migrations under
``handoff/migrations``; these classes must match them (a test compares).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp in the service is UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Role(enum.StrEnum):
    """What an account may do."""

    AGENT = "agent"
    TRAINER = "trainer"
    ADMIN = "admin"


class ConversationStatus(enum.StrEnum):
    """Who the people see as holding the conversation (the tracker decides who talks)."""

    BOT = "bot"
    PENDING = "pending"
    OPEN = "open"
    RESOLVED = "resolved"


class MessageRole(enum.StrEnum):
    """Who wrote a message; activity messages are the audit trail."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    ACTIVITY = "activity"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native PG enum types) so migrations stay simple.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Agent(Base):
    """A person using the inbox."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "agent_role"), default=Role.AGENT)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """One customer's conversation, keyed by the Rasa conversation id."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_waiting", "status", "waiting_since"),
        Index("ix_conversations_last_activity", "last_activity_at"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus, "conversation_status"), default=ConversationStatus.BOT
    )
    reason: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    waiting_since: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_s: Mapped[float | None] = mapped_column(Float)
    wait_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    csat_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    csat_awaiting_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    csat_requested_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignee: Mapped[Agent | None] = relationship(lazy="joined")


class Message(Base):
    """One turn: customer, bot, agent, or an activity line of the audit trail."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "rasa_ts", "role", name="uq_messages_rasa_event"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        # The newest message of a conversation (inbox list): one backward index scan.
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        # Metrics: the messages of a date range, the sessions started in it, the bot's
        # response times — each read from the index alone (no table rows).
        Index("ix_messages_created_role_intent", "created_at", "role", "intent"),
        Index(
            "ix_messages_session_starts",
            "created_at",
            "id",
            "rasa_ts",
            "next_session_ts",
            postgresql_where=text("session_start"),
            sqlite_where=text("session_start"),
        ),
        # A hand-off's session: the conversation's latest session start before it.
        Index(
            "ix_messages_session_owner",
            "conversation_id",
            "created_at",
            "id",
            postgresql_where=text("session_start"),
            sqlite_where=text("session_start"),
        ),
        Index(
            "ix_messages_response_ms",
            "created_at",
            "response_ms",
            postgresql_where=text("response_ms IS NOT NULL"),
            sqlite_where=text("response_ms IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole, "message_role"))
    text: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    intent_2: Mapped[str | None] = mapped_column(String(128))
    confidence_2: Mapped[float | None] = mapped_column(Float)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    rasa_ts: Mapped[float | None] = mapped_column(Float)
    delivery: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    # Activity lines: {"kind": "claimed", "agent": "alice", ...} for the inbox to translate.
    activity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Stamped at ingest on customer turns (handoff/services/metrics/stamps.py), so the
    # metrics need no window functions: does this turn start a session, when does the
    # same conversation's next session start, how fast did the bot answer it.
    session_start: Mapped[bool | None] = mapped_column(Boolean)
    next_session_at: Mapped[datetime | None]
    next_session_ts: Mapped[float | None] = mapped_column(Float)
    response_ms: Mapped[float | None] = mapped_column(Float)

    agent: Mapped[Agent | None] = relationship(lazy="joined")


class MessageCount(Base):
    """Messages per quarter hour (UTC), channel, role and intent: the metrics' rollup.

    Kept by :func:`_count_message` as each message is inserted (activity lines are
    not messages here); migration 0006 filled it for older rows. Quarter hours, so
    every real time zone's local midnights and hours fall on bucket edges.
    """

    __tablename__ = "message_counts"

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    intent: Mapped[str] = mapped_column(String(128), primary_key=True)  # "" for none
    messages: Mapped[int] = mapped_column(Integer, default=0)
    confidence_sum: Mapped[float] = mapped_column(Float, default=0.0)
    confidence_count: Mapped[int] = mapped_column(Integer, default=0)


BUCKET_S = 900


def bucket_of(moment: datetime) -> datetime:
    """The start of the quarter hour (UTC) holding ``moment``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


@event.listens_for(Message, "after_insert")
def _count_message(_mapper: Any, connection: Connection, message: Message) -> None:
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


class HandoffRecord(Base):
    """One episode of a conversation in human hands, from hand-off to resolve or hand-back."""

    __tablename__ = "handoff_records"
    __table_args__ = (Index("ix_handoff_records_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    first_response_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # resolved | handed_back


class AfterSalesCase(Base):
    """An after-sales case (refund, return, exchange, repair) the bot opened at the shop.

    Learned from the ``case_opened`` slot the assistant sets when the shop
    accepts a case; ``opened_at`` is that event's Rasa timestamp.
    """

    __tablename__ = "after_sales_cases"
    __table_args__ = (Index("ix_after_sales_cases_opened", "opened_at", "case_type"),)

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    case_type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime]


class CsatRating(Base):
    """A customer's 1–5 rating after a resolved episode."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_records.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RaisedAlert(Base):
    """An alert posted once (Slack, live inbox), whichever replica's sweep saw it first.

    ``subject`` names the occurrence: ``<conversation id>@<waiting since>`` for a
    long wait, the local day for a fallback-rate jump.
    """

    __tablename__ = "raised_alerts"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedResponse(Base):
    """A prepared reply agents insert by shortcut."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("shortcut", "language", name="uq_canned_shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """A bot turn an agent marked as misunderstood, with the intent it should have seen."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    customer_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    intent: Mapped[str] = mapped_column(String(128))
    text: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlackThread(Base):
    """The Slack thread of a conversation's latest handoff (optional Slack integration)."""

    __tablename__ = "slack_threads"
    __table_args__ = (UniqueConstraint("channel", "thread_ts", name="uq_slack_threads_ts"),)

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotationStatus(enum.StrEnum):
    """Where a message stands in the trainers' queue."""

    NEW = "new"
    LABELLED = "labelled"
    IGNORED = "ignored"


class AnnotationItem(Base):
    """A customer message the bot may have misunderstood, waiting for a trainer's label.

    Items whose normalised wording is the same or similar share a ``group_id``
    (the id of the group's first item); trainers label a group at once.
    """

    __tablename__ = "annotation_items"
    __table_args__ = (
        Index("ix_annotation_items_status_group", "status", "group_id"),
        Index("ix_annotation_items_normalized", "normalized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(512))
    predicted_intent: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    intent_2: Mapped[str | None] = mapped_column(String(128))
    confidence_2: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    agent_intent: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[AnnotationStatus] = mapped_column(
        _enum(AnnotationStatus, "annotation_status"), default=AnnotationStatus.NEW
    )
    label_intent: Mapped[str | None] = mapped_column(String(128))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    labelled_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    labelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    labeller: Mapped[Agent | None] = relationship(lazy="joined")


class AnnotationHistory(Base):
    """One trainer action on a group (label or ignore), with what it replaced, for undo."""

    __tablename__ = "annotation_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))  # label | ignore
    intent: Mapped[str | None] = mapped_column(String(128))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    text: Mapped[str | None] = mapped_column(Text)
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    previous: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    agent: Mapped[Agent | None] = relationship(lazy="joined", foreign_keys=[agent_id])
