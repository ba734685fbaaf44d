"""Retention: conversations idle longer than the configured days are erased, daily.

``HANDOFF_RETENTION_DAYS``: a conversation whose last activity is older is
erased with :class:`~.erase.EraseCustomer` (texts and personal data gone from
the service's database and Rasa's tracker store, anonymous counts kept), and
dead letters received before then are deleted.
``TRACKER_RETENTION_DAYS`` (default: the same): the tracker store's events of
a conversation whose newest event is older are deleted. Conversations waiting
for or held by an agent are never erased by age; they are erased once closed.
Unset: nothing expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.errors import Conflict, NotFound
from handoff.exported_labels import ExportedLabels
from handoff.models import Conversation, ConversationStatus, DeadLetter, utcnow
from handoff.services.customers import audit_hook
from handoff.services.customers.erase import EraseCustomer
from handoff.tracker_store import TrackerStore

logger = logging.getLogger(__name__)

# Erased per round at most, so one round never holds the database for long.
BATCH = 500


@dataclass
class RetentionReport:
    """What one round erased."""

    conversations: list[str] = field(default_factory=list)
    tracker_only: list[str] = field(default_factory=list)
    dead_letters: int = 0


class Retention:
    """The daily job (``HANDOFF_RETENTION_INTERVAL_S``) the app's lifespan runs.

    Args:
        sessions: the service's session factory.
        tracker_store: Rasa's tracker store.
        labels: the exported labels on the Rasa side.
        days: ``HANDOFF_RETENTION_DAYS`` (``None``: keep).
        tracker_days: ``TRACKER_RETENTION_DAYS`` (``None``: keep).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tracker_store: TrackerStore,
        labels: ExportedLabels,
        *,
        days: int | None,
        tracker_days: int | None,
    ) -> None:
        self._sessions = sessions
        self._tracker_store = tracker_store
        self._erase = EraseCustomer(sessions, tracker_store, labels)
        self._days = days
        self._tracker_days = tracker_days

    async def perform(self) -> RetentionReport:
        """Erases what is older than the limits (now is the service's clock)."""
        report = RetentionReport()
        now = utcnow()
        if self._days is not None:
            before = now - timedelta(days=self._days)
            async with self._sessions() as session:
                idle = list(
                    await session.scalars(
                        select(Conversation.id)
                        .where(
                            Conversation.erased_at.is_(None),
                            Conversation.last_activity_at < before,
                            Conversation.status.not_in(
                                [ConversationStatus.PENDING, ConversationStatus.OPEN]
                            ),
                        )
                        .order_by(Conversation.last_activity_at)
                        .limit(BATCH)
                    )
                )
            for cid in idle:
                if await self._erase_one(cid):
                    report.conversations.append(cid)
            # Refused input keeps the customer's text too, whichever conversation it named.
            async with self._sessions.begin() as session:
                pruned = await session.execute(
                    delete(DeadLetter).where(DeadLetter.received_at < before)
                )
                report.dead_letters = int(pruned.rowcount or 0)  # type: ignore[attr-defined]
        if self._tracker_days is not None:
            before_ts = (now - timedelta(days=self._tracker_days)).timestamp()
            for cid in (await self._tracker_store.idle_since(before_ts))[:BATCH]:
                if cid in report.conversations:
                    continue
                events = await self._tracker_store.erase(cid)
                report.tracker_only.append(cid)
                await audit_hook.record(
                    self._sessions,
                    action=audit_hook.ERASED,
                    conversation_id=cid,
                    actor=None,
                    details={"tracker_events": events},
                )
        if report.conversations or report.tracker_only or report.dead_letters:
            logger.info(
                "retention: erased %d conversations, %d trackers, %d dead letters",
                len(report.conversations),
                len(report.tracker_only),
                report.dead_letters,
            )
        return report

    async def _erase_one(self, cid: str) -> bool:
        try:
            erased = await self._erase.perform(cid)
        except (NotFound, Conflict):
            # Taken by an agent or erased meanwhile: the next round sees it again if needed.
            return False
        await audit_hook.record(
            self._sessions,
            action=audit_hook.ERASED,
            conversation_id=cid,
            actor=None,
            details=erased.counts(),
        )
        return True
