"""Where exports and erasures are recorded in the access records (issue 16, point 7).

The audit log (``GET /api/audit``, ``handoff/services/audit.py``) is built on
another branch. Until it is merged, every export and erasure, by an admin or
by the retention job, goes through :func:`record` alone, so wiring it is one
change here: call ``audit.record(...)`` with these arguments. The log line
carries no customer text.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

logger = logging.getLogger(__name__)

EXPORTED = "customer.exported"
ERASED = "customer.erased"


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
    del sessions  # used once the audit log is wired in
    logger.info(
        "access record: %s %s by %s from %s %s",
        action,
        conversation_id,
        actor or "retention job",
        address or "-",
        details or {},
    )
