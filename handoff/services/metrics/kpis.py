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

from sqlalchemy import ColumnElement, Subquery, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from handoff.models import HandoffRecord, Message, MessageRole

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


def _within(moment: Any, rows: Subquery) -> ColumnElement[bool]:
    """``moment`` lies in the session of ``rows`` (from its start to the next one)."""
    return and_(
        moment >= rows.c.started_at,
        or_(rows.c.next_start.is_(None), moment < rows.c.next_start),
    )


def complaint(rows: Subquery) -> ColumnElement[bool]:
    """The session of ``rows`` (see ``sessions.sessions``) had a complaint."""
    said = exists().where(
        Message.conversation_id == rows.c.conversation_id,
        Message.role == MessageRole.CUSTOMER,
        Message.intent == COMPLAINT_INTENT,
        _within(Message.created_at, rows),
    )
    handed = exists().where(
        HandoffRecord.conversation_id == rows.c.conversation_id,
        HandoffRecord.reason == COMPLAINT_REASON,
        _within(HandoffRecord.started_at, rows),
    )
    return or_(said, handed)


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
    # Without a next session (next_start_ts NULL) nothing came back.
    return and_(settled, or_(rows.c.next_start_ts.is_(None), ~came_back))


def counted(rows: Subquery) -> list[Any]:
    """Aggregates over ``rows``: complaints and resolved sessions."""
    return [
        func.sum(case((complaint(rows), 1), else_=0)).label("complaints"),
        func.sum(case((resolved(rows), 1), else_=0)).label("resolved"),
    ]
