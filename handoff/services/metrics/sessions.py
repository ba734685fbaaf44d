"""Conversations as sessions, and the hand-off episodes and messages of a filter."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select

from handoff.models import Conversation, HandoffRecord, Message, MessageRole
from handoff.services.metrics.filters import MetricsFilter

SESSION_GAP_S = 3600.0
FCR_WINDOW_S = 86400.0
FALLBACK_INTENT = "nlu_fallback"


def sessions(where: MetricsFilter) -> Subquery:
    """One row per conversation started in the range (channel and team applied).

    Columns: ``conversation_id``, ``channel``, ``started_at``, ``start_ts``,
    ``next_start`` and ``next_start_ts`` (the same id's next session, if any),
    ``handed_off``, ``resolved`` (one episode, resolved) — the last two 0/1.
    """
    # A message can only start a session in the range if its predecessor is at most
    # one gap earlier, so the scan starts one gap before the range.
    scan_from = where.start - timedelta(seconds=SESSION_GAP_S)
    previous = func.lag(Message.rasa_ts).over(
        partition_by=Message.conversation_id, order_by=Message.rasa_ts
    )
    customer = (
        select(
            Message.conversation_id,
            Message.created_at,
            Message.rasa_ts,
            previous.label("prev_ts"),
        )
        .where(
            Message.role == MessageRole.CUSTOMER,
            Message.rasa_ts.is_not(None),
            Message.created_at >= scan_from,
        )
        .subquery("customer_turns")
    )
    starts = (
        select(
            customer.c.conversation_id,
            customer.c.created_at.label("started_at"),
            customer.c.rasa_ts.label("start_ts"),
        )
        .where(
            or_(
                customer.c.prev_ts.is_(None),
                customer.c.rasa_ts - customer.c.prev_ts > SESSION_GAP_S,
            )
        )
        .subquery("session_starts")
    )
    by_id, in_order = starts.c.conversation_id, starts.c.start_ts
    bounded = select(
        *starts.c,
        func.lead(starts.c.started_at)
        .over(partition_by=by_id, order_by=in_order)
        .label("next_start"),
        func.lead(starts.c.start_ts)
        .over(partition_by=by_id, order_by=in_order)
        .label("next_start_ts"),
    ).subquery("bounded_sessions")
    in_session = and_(
        HandoffRecord.conversation_id == bounded.c.conversation_id,
        HandoffRecord.started_at >= bounded.c.started_at,
        or_(bounded.c.next_start.is_(None), HandoffRecord.started_at < bounded.c.next_start),
    )
    # One pass over the episodes (a join, then a group) instead of a subquery per session.
    statement = (
        select(
            bounded.c.conversation_id,
            Conversation.channel,
            bounded.c.started_at,
            bounded.c.start_ts,
            bounded.c.next_start,
            bounded.c.next_start_ts,
            func.count(HandoffRecord.id).label("episodes"),
            func.count(case((HandoffRecord.outcome == "resolved", HandoffRecord.id))).label(
                "resolved_episodes"
            ),
        )
        .join(Conversation, Conversation.id == bounded.c.conversation_id)
        .outerjoin(HandoffRecord, in_session)
        .where(bounded.c.started_at >= where.start, bounded.c.started_at < where.end)
        .group_by(
            bounded.c.conversation_id,
            Conversation.channel,
            bounded.c.started_at,
            bounded.c.start_ts,
            bounded.c.next_start,
            bounded.c.next_start_ts,
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
