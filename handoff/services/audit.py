"""Access records: one function writes them, one reads them back (``GET /api/audit``).

Write with :func:`record` inside the transaction of the change it records, so
the row and the change are committed (or rolled back) together::

    audit.record(session, actor=agent, action=audit.REVEAL, conversation_id=cid,
                 address=address)
    await session.commit()

``detail`` is a small JSON object of facts (field names, counts); never put
customer text or personal data in it, the log is kept longer than they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Agent, AuditRecord, utcnow

# The actions the service records. Other modules may record actions of their own
# (at most 32 characters of ``[a-z_.]``); these are the ones it knows of today.
VIEW = "conversation.view"
REVEAL = "conversation.reveal"
EXPORT = "customer.export"
ERASE = "customer.erase"
CSV_EXPORT = "csv.export"
AGENT_CREATE = "agent.create"
AGENT_CHANGE = "agent.change"
PASSWORD_CHANGE = "password.change"
TOTP_ENROL = "totp.enrol"
TOTP_ENABLE = "totp.enable"
TOTP_DISABLE = "totp.disable"
TOTP_REFUSED = "totp.refused"
CANNED_CREATE = "canned.create"
SETTINGS_CHANGE = "settings.change"
ACTION_PATTERN = r"^[a-z_.]{1,32}$"
# The inbox reloads an open conversation on every live event: one view record per
# agent and conversation in this window is enough to say who looked, and when.
VIEW_WINDOW_S = 600


def record(
    session: AsyncSession,
    *,
    actor: Agent | str,
    action: str,
    conversation_id: str | None = None,
    target: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Adds one access record to ``session`` (the caller commits).

    Args:
        session: the session of the transaction that does what is recorded.
        actor: the account acting, or a job's name (``"retention"``).
        action: what was done: one of this module's constants, or ``[a-z_.]{1,32}``.
        conversation_id: the conversation (the customer) concerned, if any.
        target: anything else concerned, e.g. the username of an account changed.
        address: the client's address (``handoff.api.deps.ClientAddress``).
        detail: small JSON facts; never customer text.
    """
    row = AuditRecord(
        actor=actor.username if isinstance(actor, Agent) else actor,
        action=action,
        conversation_id=conversation_id,
        target=target,
        address=address,
        detail=detail or {},
    )
    session.add(row)
    return row


async def record_view(
    session: AsyncSession, *, actor: Agent, conversation_id: str, address: str | None
) -> bool:
    """Records ``conversation.view`` unless ``actor`` viewed it in the last ``VIEW_WINDOW_S``.

    Returns whether a record was added.
    """
    since = utcnow() - timedelta(seconds=VIEW_WINDOW_S)
    recent = await session.scalar(
        select(AuditRecord.id)
        .where(
            AuditRecord.conversation_id == conversation_id,
            AuditRecord.at >= since,
            AuditRecord.actor == actor.username,
            AuditRecord.action == VIEW,
        )
        .limit(1)
    )
    if recent is not None:
        return False
    record(session, actor=actor, action=VIEW, conversation_id=conversation_id, address=address)
    return True


@dataclass(frozen=True)
class AuditFilter:
    """Which records to list; every field is optional (``None``: no condition)."""

    actor: str | None = None
    conversation_id: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _where(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.actor is not None:
        query = query.where(AuditRecord.actor == where.actor)
    if where.conversation_id is not None:
        query = query.where(AuditRecord.conversation_id == where.conversation_id)
    if where.action is not None:
        query = query.where(AuditRecord.action == where.action)
    if where.start is not None:
        query = query.where(AuditRecord.at >= where.start)
    if where.end is not None:
        query = query.where(AuditRecord.at < where.end)
    return query


def record_json(row: AuditRecord) -> dict[str, Any]:
    """One record as the API shows it."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "conversation_id": row.conversation_id,
        "target": row.target,
        "address": row.address,
        "detail": row.detail,
    }


async def page(
    session: AsyncSession, where: AuditFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """The number of matching records and one page of them, newest first."""
    total = await session.scalar(_where(select(func.count(AuditRecord.id)), where)) or 0
    rows = await session.scalars(
        _where(select(AuditRecord), where)
        .order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, [record_json(row) for row in rows]
