"""Conversations as sessions, and the hand-off episodes and messages of a filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, select, true

from handoff.models import AfterSalesCase, Conversation, HandoffRecord, Message
from handoff.services.metrics.filters import MetricsFilter

FCR_WINDOW_S = 86400.0
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"


def _episodes_by_session(where: MetricsFilter) -> Subquery:
    """Hand-off episodes per session: ``session_id``, ``episodes``, ``resolved_episodes``,
    ``team_episodes`` (of the filter's team).

    An episode belongs to the latest session start at or before it (that start's
    ``next_session_at`` is after it): one index probe per episode started since the
    range start, instead of a join of every session with every episode.
    """
    owner = (
        select(Message.id)
        .where(
            Message.conversation_id == HandoffRecord.conversation_id,
            Message.session_start == true(),
            Message.created_at <= HandoffRecord.started_at,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
        .correlate(HandoffRecord)
        .scalar_subquery()
    )
    episodes = (
        select(owner.label("session_id"), HandoffRecord.outcome, HandoffRecord.team)
        .where(HandoffRecord.started_at >= where.start)
        .subquery("episodes")
    )
    team = where.team or ""
    return (
        select(
            episodes.c.session_id,
            func.count().label("episodes"),
            func.count(case((episodes.c.outcome == "resolved", 1))).label("resolved_episodes"),
            func.count(case((episodes.c.team == team, 1))).label("team_episodes"),
        )
        .group_by(episodes.c.session_id)
        .subquery("session_episodes")
    )


def handed_off_sessions(where: MetricsFilter) -> Subquery:
    """The sessions started in the range that had hand-offs (channel and team applied).

    Columns: ``session_id``, ``start_ts``, ``next_start_ts``, ``episodes``,
    ``resolved_episodes``. A tenth or so of the sessions: the summary counts the
    rest from the session starts' index alone.
    """
    per_session = _episodes_by_session(where)
    statement = (
        select(
            per_session.c.session_id,
            Message.rasa_ts.label("start_ts"),
            Message.next_session_ts.label("next_start_ts"),
            per_session.c.episodes,
            per_session.c.resolved_episodes,
        )
        .join(Message, Message.id == per_session.c.session_id)
        .where(
            Message.session_start == true(),
            Message.created_at >= where.start,
            Message.created_at < where.end,
        )
    )
    if where.channel:
        statement = statement.join(Conversation, Conversation.id == Message.conversation_id).where(
            Conversation.channel == where.channel
        )
    if where.team:
        statement = statement.where(per_session.c.team_episodes > 0)
    return statement.subquery("handed_off_sessions")


def session_starts(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Message` for the session starts of the range (not the team)."""
    conditions: list[ColumnElement[bool]] = [
        Message.session_start == true(),
        Message.created_at >= where.start,
        Message.created_at < where.end,
    ]
    if where.channel:
        conditions.append(
            Message.conversation_id.in_(
                select(Conversation.id).where(Conversation.channel == where.channel)
            )
        )
    return conditions


def sessions(where: MetricsFilter, *, with_channel: bool = False) -> Subquery:
    """One row per conversation started in the range (channel and team applied).

    Columns: ``session_id`` (its first message), ``conversation_id``, ``started_at``,
    ``start_ts``, ``next_start`` and
    ``next_start_ts`` (the same id's next session, if any), ``episodes`` and
    ``resolved_episodes`` (hand-offs started in the session), and ``channel`` when
    asked for.

    Sessions are the customer turns stamped ``session_start`` at ingest
    (:mod:`handoff.services.metrics.stamps`): an index range scan joined with the
    few sessions that had hand-offs.
    """
    per_session = _episodes_by_session(where)
    columns: list[Any] = [
        Message.id.label("session_id"),
        Message.conversation_id,
        Message.created_at.label("started_at"),
        Message.rasa_ts.label("start_ts"),
        Message.next_session_at.label("next_start"),
        Message.next_session_ts.label("next_start_ts"),
        func.coalesce(per_session.c.episodes, 0).label("episodes"),
        func.coalesce(per_session.c.resolved_episodes, 0).label("resolved_episodes"),
    ]
    if with_channel or where.channel:
        columns.append(Conversation.channel)
    statement = (
        select(*columns)
        .outerjoin(per_session, per_session.c.session_id == Message.id)
        .where(
            Message.session_start == true(),
            Message.created_at >= where.start,
            Message.created_at < where.end,
        )
    )
    if with_channel or where.channel:
        statement = statement.join(Conversation, Conversation.id == Message.conversation_id)
    if where.channel:
        statement = statement.where(Conversation.channel == where.channel)
    if where.team:
        statement = statement.where(per_session.c.team_episodes > 0)
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


def _in_scope(moment: Any, conversation_id: Any, where: MetricsFilter) -> list[ColumnElement[bool]]:
    """``moment`` in the range; ``conversation_id`` of the channel, handed to the team."""
    conditions: list[ColumnElement[bool]] = [moment >= where.start, moment < where.end]
    if where.channel:
        conditions.append(
            conversation_id.in_(
                select(Conversation.id).where(Conversation.channel == where.channel)
            )
        )
    if where.team:
        conditions.append(
            conversation_id.in_(
                select(HandoffRecord.conversation_id).where(HandoffRecord.team == where.team)
            )
        )
    return conditions


def messages_filter(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Message` for messages written in the range."""
    return _in_scope(Message.created_at, Message.conversation_id, where)


def cases_filter(where: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on :class:`AfterSalesCase` for cases opened in the range."""
    return _in_scope(AfterSalesCase.opened_at, AfterSalesCase.conversation_id, where)
