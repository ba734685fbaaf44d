"""The figures the seeds judge a service centre by: complaints and resolution.

- A conversation (session) is a *complaint* when, between its first message and
  the same id's next session, the customer wrote a message the bot read as
  ``complain`` or a hand-off for reason ``complaint`` started.
- A conversation is *resolved* when the bot kept it (no hand-off), or every
  hand-off of it ended ``resolved``; and the customer did not come back on the
  same topic within ``RECONTACT_WINDOW_S`` of its start: no later session's
  customer message in that window carries an intent of this conversation (small
  talk such as ``greet`` or ``thank`` names no topic).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.orm import aliased

from handoff.models import HandoffRecord, Message, MessageRole
from handoff.services.metrics.filters import MetricsFilter

COMPLAINT_INTENT = "complain"
COMPLAINT_REASON = "complaint"
RECONTACT_WINDOW_S = 72 * 3600.0
SMALL_TALK = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "inform",
    "bot_challenge",
    "nlu_fallback",
    "out_of_scope",
)


def _owner(conversation_id: Any, moment: Any, correlated: Any) -> Any:
    """The session a moment of a conversation belongs to: its latest session start at or
    before it (one probe of ``ix_messages_session_owner``)."""
    start = aliased(Message, name="session_owner")
    return (
        select(start.id)
        .where(
            start.conversation_id == conversation_id,
            start.session_start == true(),
            start.created_at <= moment,
        )
        .order_by(start.created_at.desc())
        .limit(1)
        .correlate(correlated)
        .scalar_subquery()
    )


def complaint_sessions(where: MetricsFilter) -> Subquery:
    """``session_id`` of every session with a complaint since the range start.

    Complaints are few: they are found first (customer ``complain`` messages and
    ``complaint`` hand-offs) and each is mapped to its session, instead of probing
    every session for a complaint.
    """
    said = aliased(Message, name="complaint_messages")
    from_messages = select(
        _owner(said.conversation_id, said.created_at, said).label("session_id")
    ).where(
        said.created_at >= where.start,
        said.role == MessageRole.CUSTOMER,
        said.intent == COMPLAINT_INTENT,
    )
    from_handoffs = select(
        _owner(HandoffRecord.conversation_id, HandoffRecord.started_at, HandoffRecord).label(
            "session_id"
        )
    ).where(HandoffRecord.started_at >= where.start, HandoffRecord.reason == COMPLAINT_REASON)
    return union(from_messages, from_handoffs).subquery("complaint_sessions")


def complaint(rows: Subquery, where: MetricsFilter) -> ColumnElement[bool]:
    """The session of ``rows`` (see ``sessions.sessions``) had a complaint."""
    found = complaint_sessions(where)
    return rows.c.session_id.in_(select(found.c.session_id))


def resolved(rows: Subquery) -> ColumnElement[bool]:
    """The session of ``rows`` was resolved and not re-opened on its topic in the window."""
    settled = or_(rows.c.episodes == 0, rows.c.resolved_episodes == rows.c.episodes)
    topic = aliased(Message)
    later = aliased(Message)
    own_topics = select(topic.intent).where(
        topic.conversation_id == rows.c.conversation_id,
        topic.role == MessageRole.CUSTOMER,
        topic.rasa_ts >= rows.c.start_ts,
        topic.rasa_ts < rows.c.next_start_ts,
        topic.intent.not_in(SMALL_TALK),
    )
    came_back = exists().where(
        later.conversation_id == rows.c.conversation_id,
        later.role == MessageRole.CUSTOMER,
        later.rasa_ts >= rows.c.next_start_ts,
        later.rasa_ts <= rows.c.start_ts + RECONTACT_WINDOW_S,
        later.intent.in_(own_topics),
    )
    # Only a session followed by another within the window can have come back: the
    # CASE keeps the probe off every other session.
    possible = rows.c.next_start_ts.is_not(None) & (
        rows.c.next_start_ts <= rows.c.start_ts + RECONTACT_WINDOW_S
    )
    return and_(settled, ~case((possible, came_back), else_=false()))


def counted(rows: Subquery, where: MetricsFilter) -> list[Any]:
    """Aggregates over ``rows``: complaints and resolved sessions."""
    return [
        func.sum(case((complaint(rows, where), 1), else_=0)).label("complaints"),
        func.sum(case((resolved(rows), 1), else_=0)).label("resolved"),
    ]
