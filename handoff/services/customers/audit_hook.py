"""Exports and erasures recorded in the access records (issue 16, point 7).

An erasure reaches three databases (the service's, Rasa's tracker store, the
model registry), so its record is written in a transaction of its own once
the erasure is done, by an admin or by the retention job. The record holds
counts, never customer text.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.services import audit

EXPORTED = audit.EXPORT
ERASED = audit.ERASE
RETENTION_JOB = "retention"


async def record(
    sessions: async_sessionmaker[AsyncSession],
    *,
    action: str,
    conversation_id: str,
    actor: str | None,
    address: str | None = None,
    details: dict[str, int] | None = None,
) -> None:
    """Records that ``actor`` (``None``: the retention job) exported or erased a customer.

    Args:
        sessions: the service's session factory (the audit log's table lives there).
        action: :data:`EXPORTED` or :data:`ERASED`.
        conversation_id: the customer (their conversation id as it was).
        actor: the admin's username, or ``None`` for the retention job.
        address: the client address of the request, when there is one.
        details: counts of what was exported or erased, never texts.
    """
    async with sessions() as session:
        audit.record(
            session,
            actor=actor or RETENTION_JOB,
            action=action,
            conversation_id=conversation_id,
            address=address,
            detail=dict(details or {}),
        )
        await session.commit()
