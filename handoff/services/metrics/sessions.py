"""Conversations as sessions, and the hand-off episodes and messages of a filter."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select, true

from handoff.models import Conversation, HandoffRecord, Message
from handoff.services.metrics.filters import MetricsFilter

FCR_WINDOW_S = 86400.0
FALLBACK_INTENT = "nlu_fallback"


def sessions(where: MetricsFilter) -> Subquery:
    """One row per conversation started in the range (channel and team applied).

    Columns: ``conversation_id``, ``channel``, ``started_at``, ``start_ts``,
    ``next_start`` and ``next_start_ts`` (the same id's next session, if any),
    ``episodes`` and ``resolved_episodes`` (hand-offs started in the session).

    Sessions are the customer turns stamped ``session_start`` at ingest
    (:mod:`handoff.services.metrics.stamps`): an index range scan, then one join
    with the episodes and one group.
    """
    start = Message
    in_session = and_(
        HandoffRecord.conversation_id == start.conversation_id,
        HandoffRecord.started_at >= start.created_at,
        or_(start.next_session_at.is_(None), HandoffRecord.started_at < start.next_session_at),
    )
    statement = (
        select(
            start.conversation_id,
            Conversation.channel,
            start.created_at.label("started_at"),
            start.rasa_ts.label("start_ts"),
            start.next_session_at.label("next_start"),
            start.next_session_ts.label("next_start_ts"),
            func.count(HandoffRecord.id).label("episodes"),
            func.count(case((HandoffRecord.outcome == "resolved", HandoffRecord.id))).label(
                "resolved_episodes"
            ),
        )
        .join(Conversation, Conversation.id == start.conversation_id)
        .outerjoin(HandoffRecord, in_session)
        .where(
            start.session_start == true(),
            start.created_at >= where.start,
            start.created_at < where.end,
        )
        .group_by(
            start.id,
            start.conversation_id,
            Conversation.channel,
            start.created_at,
            start.rasa_ts,
            start.next_session_at,
            start.next_session_ts,
        )
    )
    if where.channel:
        statement = statement.where(Conversation.channel == where.channel)
    if where.team:
        statement = statement.having(
            func.count(case((HandoffRecord.team == where.team, HandoffRecord.id))) > 0
        )
    return statement.subquery("sessions")


def episodes_filter(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`HandoffRecord` for hand-offs started in the range."""
    conditions: list[ColumnElement[bool]] = [
        HandoffRecord.started_at >= where.start,
        HandoffRecord.started_at < where.end,
    ]
    if where.team:
        conditions.append(HandoffRecord.team == where.team)
    if where.channel:
        conditions.append(
            HandoffRecord.conversation_id.in_(
                select(Conversation.id).where(Conversation.channel == where.channel)
            )
        )
    return conditions


def messages_filter(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Message` for messages written in the range."""
    conditions: list[ColumnElement[bool]] = [
        Message.created_at >= where.start,
        Message.created_at < where.end,
    ]
    if where.channel:
        conditions.append(
            Message.conversation_id.in_(
                select(Conversation.id).where(Conversation.channel == where.channel)
            )
        )
    if where.team:
        conditions.append(
            Message.conversation_id.in_(
                select(HandoffRecord.conversation_id).where(HandoffRecord.team == where.team)
            )
        )
    return conditions
