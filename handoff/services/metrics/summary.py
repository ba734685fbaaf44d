"""``GET /api/metrics/summary``: the headline numbers of a filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import (
    AfterSalesCase,
    CsatRating,
    HandoffRecord,
    Message,
    MessageCount,
    MessageRole,
)
from handoff.services.metrics import counts, kpis
from handoff.services.metrics.filters import MetricsFilter
from handoff.services.metrics.sessions import (
    FALLBACK_INTENT,
    FCR_WINDOW_S,
    OUT_OF_SCOPE_INTENT,
    cases_filter,
    episodes_filter,
    handed_off_sessions,
    messages_filter,
    session_starts,
    sessions,
)
from handoff.services.metrics.sql import analytic, median_select, seconds_between

SATISFIED = 4  # 4–5 stars


def _rate(part: float | int | None, whole: float | int | None) -> float | None:
    return round(float(part or 0) / float(whole), 4) if whole else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None


def _came_back(start_ts: Any, next_start_ts: Any) -> ColumnElement[bool]:
    """The customer started another session within ``FCR_WINDOW_S``."""
    return next_start_ts.is_not(None) & (next_start_ts - start_ts <= FCR_WINDOW_S)


async def session_counts(session: AsyncSession, where: MetricsFilter) -> dict[str, int]:
    """Conversations, how many were handed off, and how many were resolved at first contact.

    Sessions without hand-offs are counted from the session starts' index alone;
    only those with hand-offs are joined with their episodes.
    """
    rows = handed_off_sessions(where)
    returned = _came_back(rows.c.start_ts, rows.c.next_start_ts)
    one_contact = (rows.c.episodes == 1) & (rows.c.resolved_episodes == 1)
    handed = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((returned, 0), else_=1)),
                func.sum(case((one_contact & ~returned, 1), else_=0)),
            ).select_from(rows)
        )
    ).one()
    handed_off, handed_stayed, handed_first_contact = (int(v or 0) for v in handed)
    if where.team:
        # Only sessions with a hand-off to the team count at all.
        total, stayed_without = handed_off, 0
    else:
        found = (
            await session.execute(
                select(
                    func.count(),
                    func.sum(
                        case((_came_back(Message.rasa_ts, Message.next_session_ts), 0), else_=1)
                    ),
                ).where(*session_starts(where))
            )
        ).one()
        total = int(found[0] or 0)
        stayed_without = int(found[1] or 0) - handed_stayed
    return {
        "conversations": total,
        "handed_off": handed_off,
        # Contained and did not come back, or one episode, resolved, and did not come back.
        "first_contact": stayed_without + handed_first_contact,
    }


async def message_counts(session: AsyncSession, where: MetricsFilter) -> dict[str, int]:
    """Messages of each role, and customer messages with an intent / falling back."""
    if counts.usable(where):
        customer = MessageCount.role == MessageRole.CUSTOMER.value
        n = MessageCount.messages
        statement = select(
            func.sum(n),
            func.sum(case((customer, n), else_=0)),
            func.sum(case((customer & (MessageCount.intent != ""), n), else_=0)),
            func.sum(case((customer & (MessageCount.intent == FALLBACK_INTENT), n), else_=0)),
            func.sum(case((customer & (MessageCount.intent == OUT_OF_SCOPE_INTENT), n), else_=0)),
        ).where(*counts.conditions(where))
    else:
        is_customer = Message.role == MessageRole.CUSTOMER
        statement = select(
            func.count(),
            func.sum(case((is_customer, 1), else_=0)),
            func.sum(case((is_customer & Message.intent.is_not(None), 1), else_=0)),
            func.sum(case((is_customer & (Message.intent == FALLBACK_INTENT), 1), else_=0)),
            func.sum(case((is_customer & (Message.intent == OUT_OF_SCOPE_INTENT), 1), else_=0)),
        ).where(Message.role != MessageRole.ACTIVITY, *messages_filter(where))
    found = (await session.execute(statement)).one()
    total, customers, classified, fallbacks, out_of_scope = (int(value or 0) for value in found)
    return {
        "messages": total,
        "customer_messages": customers,
        "classified": classified,
        "fallbacks": fallbacks,
        "out_of_scope": out_of_scope,
    }


def bot_response_times(where: MetricsFilter) -> Any:
    """Milliseconds from each customer message to the bot's next turn (stamped at ingest)."""
    return (
        # Only customer turns carry response_ms: no role test, so the partial index
        # ix_messages_response_ms answers alone.
        select(Message.conversation_id, Message.response_ms.label("ms"))
        .where(Message.response_ms.is_not(None), *messages_filter(where))
        .subquery("bot_responses")
    )


def human_response_times(kind: str, where: MetricsFilter) -> Any:
    """Seconds from hand-off to the first agent reply, per episode started in the range."""
    return (
        select(
            HandoffRecord.agent_id,
            seconds_between(kind, HandoffRecord.first_response_at, HandoffRecord.started_at).label(
                "s"
            ),
        )
        .where(HandoffRecord.first_response_at.is_not(None), *episodes_filter(where))
        .subquery("human_responses")
    )


def csat_rows(where: MetricsFilter) -> Any:
    """Ratings of episodes started in the range (ratings without an episode: by their date)."""
    started = func.coalesce(HandoffRecord.started_at, CsatRating.created_at)
    statement = (
        select(CsatRating)
        .outerjoin(HandoffRecord, HandoffRecord.id == CsatRating.handoff_id)
        .where(started >= where.start, started < where.end)
    )
    if where.team:
        statement = statement.where(HandoffRecord.team == where.team)
    if where.channel:
        from handoff.models import Conversation

        statement = statement.join(
            Conversation, Conversation.id == CsatRating.conversation_id
        ).where(Conversation.channel == where.channel)
    return statement.subquery("ratings")


async def summary(session: AsyncSession, where: MetricsFilter) -> dict[str, Any]:
    """The headline numbers (rates 0–1 with four decimals, ``None`` when undefined)."""
    kind = await analytic(session)
    counts = await session_counts(session, where)
    messages = await message_counts(session, where)
    bot_ms = await session.scalar(median_select(bot_response_times(where), "ms", kind=kind))
    human_s = await session.scalar(median_select(human_response_times(kind, where), "s", kind=kind))
    handling = await session.scalar(
        select(
            func.avg(seconds_between(kind, HandoffRecord.ended_at, HandoffRecord.started_at))
        ).where(HandoffRecord.outcome == "resolved", *episodes_filter(where))
    )
    handoffs = await session.scalar(
        select(func.count(HandoffRecord.id)).where(*episodes_filter(where))
    )
    ratings = csat_rows(where)
    csat = (
        await session.execute(select(func.avg(ratings.c.rating), func.count(ratings.c.id)))
    ).one()
    satisfied = await session.scalar(
        select(func.count()).select_from(ratings).where(ratings.c.rating >= SATISFIED)
    )
    rows = sessions(where)
    complaints, resolved = (
        int(v or 0) for v in (await session.execute(select(*kpis.counted(rows, where)))).one()
    )
    cases = await session.scalar(
        select(func.count(AfterSalesCase.case_id)).where(*cases_filter(where))
    )
    total = counts["conversations"]
    return {
        "from": where.first_day.isoformat(),
        "to": where.last_day.isoformat(),
        "timezone": where.zone.key,
        "channel": where.channel,
        "team": where.team,
        "conversations": total,
        "messages": messages["messages"],
        "customer_messages": messages["customer_messages"],
        "handoffs": handoffs or 0,
        "handed_off_conversations": counts["handed_off"],
        "containment_rate": _rate(total - counts["handed_off"], total),
        "handoff_rate": _rate(counts["handed_off"], total),
        "first_contact_resolution_rate": _rate(counts["first_contact"], total),
        "resolution_rate": _rate(resolved, total),
        "resolved_conversations": resolved,
        "complaint_rate": _rate(complaints, total),
        "complaints": complaints,
        "fallback_rate": _rate(messages["fallbacks"], messages["classified"]),
        "out_of_scope_rate": _rate(messages["out_of_scope"], messages["classified"]),
        "csat_average": _round(csat[0], 2),
        "csat_count": csat[1],
        "csat_satisfied_rate": _rate(satisfied, csat[1]),
        "bot_first_response_ms_p50": _round(bot_ms),
        "bot_first_response_s_p50": _round(bot_ms / 1000.0, 3) if bot_ms is not None else None,
        "human_first_response_s_p50": _round(human_s),
        "average_handling_s": _round(handling),
        "after_sales_cases": cases or 0,
    }
