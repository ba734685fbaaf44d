"""``GET /api/metrics/{table}``: the dashboard's tables (rows of plain values, CSV-ready)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.errors import NotFound
from handoff.models import (
    AfterSalesCase,
    Agent,
    Conversation,
    HandoffRecord,
    Message,
    MessageCount,
    MessageRole,
)
from handoff.services.metrics import counts
from handoff.services.metrics.complaints import complaint_conversations, complaints_by_day
from handoff.services.metrics.filters import MetricsFilter, local_time
from handoff.services.metrics.sessions import (
    cases_filter,
    episodes_filter,
    messages_filter,
    sessions,
)
from handoff.services.metrics.sql import analytic, dialect, local_day, local_hour, median_select
from handoff.services.metrics.summary import csat_rows, human_response_times
from handoff.services.metrics.wordings import misunderstood, out_of_scope
from handoff.services.privacy.mask import mask_text

Rows = list[dict[str, Any]]
TOP_INTENTS = 8


async def channels_hours(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Conversations started and messages written, per channel and local hour."""
    kind = dialect(session)
    rows = sessions(where, with_channel=True)
    hour = local_hour(kind, rows.c.started_at, where)
    started = await session.execute(
        select(rows.c.channel, hour.label("hour"), func.count()).group_by(rows.c.channel, hour)
    )
    table: dict[tuple[str, int], dict[str, Any]] = {}
    for channel, at, count in started:
        table[(channel, int(at))] = {"channel": channel, "hour": int(at), "conversations": count}
    if counts.usable(where):
        bucket_hour = local_hour(kind, MessageCount.bucket_start, where)
        written = await session.execute(
            select(MessageCount.channel, bucket_hour.label("hour"), func.sum(MessageCount.messages))
            .where(*counts.conditions(where))
            .group_by(MessageCount.channel, bucket_hour)
        )
    else:
        message_hour = local_hour(kind, Message.created_at, where)
        written = await session.execute(
            select(Conversation.channel, message_hour.label("hour"), func.count(Message.id))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.role != MessageRole.ACTIVITY, *messages_filter(where))
            .group_by(Conversation.channel, message_hour)
        )
    for channel, at, count in written:
        row = table.setdefault(
            (channel, int(at)), {"channel": channel, "hour": int(at), "conversations": 0}
        )
        row["messages"] = count
    for row in table.values():
        row.setdefault("messages", 0)
    return [table[key] for key in sorted(table)]


async def handoff_reasons(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Hand-off episodes per reason, with their share of the conversations."""
    total = await session.scalar(select(func.count()).select_from(sessions(where)))
    found = await session.execute(
        select(HandoffRecord.reason, func.count(HandoffRecord.id))
        .where(*episodes_filter(where))
        .group_by(HandoffRecord.reason)
        .order_by(func.count(HandoffRecord.id).desc(), HandoffRecord.reason)
    )
    return [
        {
            "reason": reason or "unknown",
            "handoffs": count,
            "rate": round(count / total, 4) if total else None,
        }
        for reason, count in found
    ]


async def after_sales_cases(session: AsyncSession, where: MetricsFilter) -> Rows:
    """After-sales cases the bot opened, per type (refund, return, exchange, repair)."""
    count = func.count(AfterSalesCase.case_id)
    found = [
        (kind, int(n))
        for kind, n in await session.execute(
            select(AfterSalesCase.case_type, count)
            .where(*cases_filter(where))
            .group_by(AfterSalesCase.case_type)
            .order_by(count.desc(), AfterSalesCase.case_type)
        )
    ]
    total = sum(n for _, n in found)
    return [
        {"case_type": kind, "cases": n, "share": round(n / total, 4) if total else None}
        for kind, n in found
    ]


def _customer(where: MetricsFilter) -> list[ColumnElement[bool]]:
    return [Message.role == MessageRole.CUSTOMER, *messages_filter(where)]


async def intents(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Customer messages per recognised intent, most frequent first."""
    if counts.usable(where):
        count: Any = func.sum(MessageCount.messages)
        confidence: Any = func.sum(MessageCount.confidence_sum) / func.nullif(
            func.sum(MessageCount.confidence_count), 0
        )
        statement = (
            select(MessageCount.intent, count, confidence)
            .where(
                MessageCount.role == MessageRole.CUSTOMER.value,
                MessageCount.intent != "",
                *counts.conditions(where),
            )
            .group_by(MessageCount.intent)
            .order_by(count.desc(), MessageCount.intent)
        )
    else:
        count = func.count(Message.id)
        statement = (
            select(Message.intent, count, func.avg(Message.confidence))
            .where(*_customer(where), Message.intent.is_not(None))
            .group_by(Message.intent)
            .order_by(count.desc(), Message.intent)
        )
    found = [(intent, int(n), average) for intent, n, average in await session.execute(statement)]
    total = sum(n for _, n, _ in found)
    return [
        {
            "intent": intent,
            "messages": n,
            "share": round(n / total, 4) if total else None,
            "average_confidence": round(float(average), 3) if average is not None else None,
        }
        for intent, n, average in found
    ]


async def intent_trend(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Messages per local day of the most frequent intents (zeros filled in)."""
    top = [row["intent"] for row in (await intents(session, where))[:TOP_INTENTS]]
    if not top:
        return []
    if counts.usable(where):
        bucket_day = local_day(dialect(session), MessageCount.bucket_start, where)
        found = await session.execute(
            select(bucket_day.label("day"), MessageCount.intent, func.sum(MessageCount.messages))
            .where(
                MessageCount.role == MessageRole.CUSTOMER.value,
                MessageCount.intent.in_(top),
                *counts.conditions(where),
            )
            .group_by(bucket_day, MessageCount.intent)
        )
    else:
        day = local_day(dialect(session), Message.created_at, where)
        found = await session.execute(
            select(day.label("day"), Message.intent, func.count(Message.id))
            .where(*_customer(where), Message.intent.in_(top))
            .group_by(day, Message.intent)
        )
    cells = {(str(d), intent): int(n) for d, intent, n in found}
    return [
        {"day": d.isoformat(), "intent": intent, "messages": cells.get((d.isoformat(), intent), 0)}
        for d in where.days()
        for intent in top
    ]


async def csat_distribution(session: AsyncSession, where: MetricsFilter) -> Rows:
    """How many ratings of each score 1–5."""
    ratings = csat_rows(where)
    result = await session.execute(
        select(ratings.c.rating, func.count()).group_by(ratings.c.rating)
    )
    found = {int(score): n for score, n in result}
    return [{"rating": score, "ratings": found.get(score, 0)} for score in range(1, 6)]


async def csat_comments(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Ratings with a comment, newest first."""
    ratings = csat_rows(where)
    found = await session.execute(
        select(
            ratings.c.created_at,
            ratings.c.conversation_id,
            Agent.username,
            ratings.c.rating,
            ratings.c.comment,
        )
        .outerjoin(Agent, Agent.id == ratings.c.agent_id)
        .where(ratings.c.comment.is_not(None), ratings.c.comment != "")
        .order_by(ratings.c.created_at.desc(), ratings.c.id.desc())
        .limit(200)
    )
    return [
        {
            "created_at": local_time(at, where),
            "conversation_id": cid,
            "agent": agent,
            "rating": rating,
            "comment": mask_text(comment),
        }
        for at, cid, agent, rating, comment in found
    ]


async def agents(session: AsyncSession, where: MetricsFilter) -> Rows:
    """Per agent: episodes handled and resolved, median first response, handling, CSAT."""
    from handoff.services.metrics.sql import seconds_between

    kind = dialect(session)
    handled = await session.execute(
        select(
            Agent.username,
            Agent.id,
            func.count(HandoffRecord.id),
            func.sum(case((HandoffRecord.outcome == "resolved", 1), else_=0)),
            func.avg(
                case(
                    (
                        HandoffRecord.outcome == "resolved",
                        seconds_between(kind, HandoffRecord.ended_at, HandoffRecord.started_at),
                    ),
                    else_=literal(None),
                )
            ),
        )
        .join(Agent, Agent.id == HandoffRecord.agent_id)
        .where(*episodes_filter(where))
        .group_by(Agent.username, Agent.id)
        .order_by(Agent.username)
    )
    result = await session.execute(
        median_select(human_response_times(kind, where), "s", "agent_id", kind=kind)
    )
    medians = {aid: value for aid, value in result}
    ratings = csat_rows(where)
    csat = {
        agent: (avg, n)
        for agent, avg, n in await session.execute(
            select(ratings.c.agent_id, func.avg(ratings.c.rating), func.count()).group_by(
                ratings.c.agent_id
            )
        )
    }
    return [
        {
            "agent": name,
            "handled": n,
            "resolved": int(resolved or 0),
            "first_response_s_p50": round(float(medians[aid]), 1) if aid in medians else None,
            "resolution_s_avg": round(float(handling), 1) if handling is not None else None,
            "csat_average": round(float(csat[aid][0]), 2) if aid in csat else None,
            "csat_count": csat[aid][1] if aid in csat else 0,
        }
        for name, aid, n, resolved, handling in handled
    ]


Table = Callable[[AsyncSession, MetricsFilter], Awaitable[Rows]]
TABLES: dict[str, Table] = {
    "channels": channels_hours,
    "handoff-reasons": handoff_reasons,
    "intents": intents,
    "intent-trend": intent_trend,
    "misunderstood": misunderstood,
    "out-of-scope": out_of_scope,
    "csat": csat_distribution,
    "csat-comments": csat_comments,
    "agents": agents,
    "after-sales-cases": after_sales_cases,
    "complaints": complaints_by_day,
    "complaint-conversations": complaint_conversations,
}


async def table(session: AsyncSession, name: str, where: MetricsFilter) -> Rows:
    """The rows of the table ``name``.

    Raises:
        NotFound: no such table.
    """
    build = TABLES.get(name)
    if build is None:
        raise NotFound(f"no metrics table {name!r}; tables: " + ", ".join(TABLES))
    await analytic(session)
    return await build(session, where)
