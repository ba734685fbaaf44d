"""``GET /api/conversations``: one page of a queue filter, and the filters' counts.

The list is read with SQLAlchemy Core, not ORM entities: one statement selects
the columns a list row shows, the assignee's name and the newest public
message of each conversation on the page. Building ORM objects (identity map,
joined assignee, instance state) for every row cost more CPU than the
database did (bench/handoff_latency.py, docs/BENCHMARKS.md).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, Conversation, ConversationStatus, Message, MessageRole, utcnow
from handoff.services.privacy.mask import mask_text
from handoff.services.views import is_late, iso

LIST_FILTERS = ("pending", "mine", "open", "resolved", "all")
DEFAULT_PAGE = 50
MAX_PAGE = 500
# Deeper than any real queue; bigger offsets are refused, not passed to the database.
MAX_OFFSET = 1_000_000


# The statements are built once per filter (SQLAlchemy caches their compiled form);
# the agent, the page size and the offset are bound parameters.
_ME = bindparam("me", type_=Integer)
_ROWS = bindparam("rows", type_=Integer)
_SKIP = bindparam("skip", type_=Integer)


def _filter(status: str) -> list[Any]:
    if status == "pending":
        return [Conversation.status == ConversationStatus.PENDING]
    if status == "mine":
        return [
            Conversation.status.in_([ConversationStatus.OPEN, ConversationStatus.PENDING]),
            Conversation.assignee_id == _ME,
        ]
    if status == "open":
        return [Conversation.status == ConversationStatus.OPEN]
    if status == "resolved":
        return [Conversation.status == ConversationStatus.RESOLVED]
    return [Conversation.status != ConversationStatus.BOT]


@cache
def _counts_query() -> Any:
    def count(*conditions: Any) -> Any:
        return func.count().filter(*conditions)

    return select(
        count(Conversation.status == ConversationStatus.PENDING),
        count(*_filter("mine")),
        count(Conversation.status == ConversationStatus.OPEN),
        count(Conversation.status == ConversationStatus.RESOLVED),
    ).where(Conversation.status != ConversationStatus.BOT)


async def counts(session: AsyncSession, me: Agent) -> dict[str, int]:
    """How many conversations each queue filter holds (one pass over the table)."""
    row = (await session.execute(_counts_query(), {"me": me.id})).one()
    return dict(zip(("pending", "mine", "open", "resolved"), map(int, row), strict=True))


@cache
def _page_query(status: str) -> Any:
    """The page's rows, newest message included, in queue order."""
    page = (
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.status,
            Conversation.reason,
            Conversation.team,
            Conversation.urgent,
            Agent.username.label("assignee"),
            Conversation.language,
            Conversation.summary,
            Conversation.waiting_since,
            Conversation.unread,
            Conversation.csat_pending,
            Conversation.last_activity_at,
        )
        .outerjoin(Agent, Agent.id == Conversation.assignee_id)
        .where(*_filter(status))
    )
    # Urgent and longest waiting first for the waiting queue, else most recent activity;
    # the id breaks ties so that pages do not overlap.
    if status == "pending":
        order = [Conversation.urgent.desc(), Conversation.waiting_since, Conversation.id]
    else:
        order = [Conversation.last_activity_at.desc(), Conversation.id]
    chosen = page.order_by(*order).limit(_ROWS).offset(_SKIP).subquery("page")
    # Evaluated for the page's rows only: a short backward scan of
    # ix_messages_conversation_id per conversation, however long it is.
    newest = (
        select(Message.id)
        .where(
            Message.conversation_id == chosen.c.id,
            Message.private.is_(False),
            Message.role != MessageRole.ACTIVITY,
        )
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(chosen)
        .scalar_subquery()
    )
    with_newest = select(chosen, newest.label("last_id")).subquery("with_newest")
    outer_order = (
        [with_newest.c.urgent.desc(), with_newest.c.waiting_since, with_newest.c.id]
        if status == "pending"
        else [with_newest.c.last_activity_at.desc(), with_newest.c.id]
    )
    shown = [column for column in with_newest.c if column.key != "last_id"]
    return (
        select(
            *shown,
            Message.role.label("last_role"),
            Message.text.label("last_text"),
            Message.created_at.label("last_at"),
        )
        .outerjoin(Message, Message.id == with_newest.c.last_id)
        .order_by(*outer_order)
    )


def _row_json(row: Row[Any], *, wait_alert_s: int, now: datetime) -> dict[str, Any]:
    status: ConversationStatus = row.status
    return {
        "id": row.id,
        "channel": row.channel,
        "status": status.value,
        "reason": row.reason,
        "team": row.team,
        "urgent": row.urgent,
        "assignee": row.assignee,
        "language": row.language,
        "summary": mask_text(row.summary),
        "waiting_since": iso(row.waiting_since),
        "flagged_wait": is_late(status, row.waiting_since, wait_alert_s, now),
        "last_message": None
        if row.last_role is None
        else {
            "role": row.last_role.value,
            "text": mask_text(row.last_text),
            "created_at": iso(row.last_at),
        },
        "unread": row.unread,
        "csat_pending": row.csat_pending,
    }


async def list_conversations(
    session: AsyncSession,
    *,
    status: str,
    me: Agent,
    wait_alert_s: int,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the queue, whether another follows (``has_more``) and the counts."""
    # One more row than asked for tells whether there is a next page.
    bound = {"me": me.id, "rows": limit + 1, "skip": offset}
    rows = list(await session.execute(_page_query(status), bound))
    now = utcnow()
    return {
        "conversations": [
            _row_json(row, wait_alert_s=wait_alert_s, now=now) for row in rows[:limit]
        ],
        "has_more": len(rows) > limit,
        "counts": await counts(session, me),
    }
