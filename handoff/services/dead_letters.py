"""Dead letters: what the Rasa side sent that the service refused, kept with the reason.

A refused event must never hold back the events behind it, and must not
vanish either: it is written here (``kind`` ``event`` or ``handoff``) and
admins read it through ``GET /api/dead-letters``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.models import DeadLetter
from handoff.services.storable import MAX_SENDER_LENGTH, text_problem

logger = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 64_000
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class Refusal:
    """One refused item: what it was, whose, why, and the item itself."""

    kind: str
    conversation_id: object
    reason: str
    payload: object


def _escaped(value: str) -> str:
    """``value`` with NUL and lone surrogates written as ``\\uXXXX`` (storable text)."""
    return json.dumps(value, ensure_ascii=True)[1:-1]


def _conversation_id(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if text_problem(value):
        value = _escaped(value)
    return value[:MAX_SENDER_LENGTH]


def _payload(value: object) -> str:
    # ensure_ascii keeps NUL and lone surrogates as escapes; default=repr for odd types.
    text = json.dumps(value, ensure_ascii=True, default=repr, allow_nan=True)
    return text[:MAX_PAYLOAD_CHARS]


class DeadLetters:
    """Writes and lists dead letters.

    Args:
        sessions: the app's session factory.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, refusals: list[Refusal]) -> None:
        """Stores each refusal (and logs it); nothing when the list is empty."""
        if not refusals:
            return
        async with self._sessions.begin() as session:
            for refusal in refusals:
                logger.warning(
                    "refused %s of %r: %s", refusal.kind, refusal.conversation_id, refusal.reason
                )
                session.add(
                    DeadLetter(
                        kind=refusal.kind,
                        conversation_id=_conversation_id(refusal.conversation_id),
                        reason=_escaped(refusal.reason)[:MAX_REASON_CHARS],
                        payload=_payload(refusal.payload),
                    )
                )

    async def page(self, *, limit: int, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """The total and one page of dead letters, newest first."""
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(DeadLetter)) or 0
            rows = await session.scalars(
                select(DeadLetter)
                .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return total, [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "conversation_id": row.conversation_id,
                    "reason": row.reason,
                    "payload": row.payload,
                    "received_at": row.received_at.isoformat(),
                }
                for row in rows
            ]
