"""A message waiting behind a dead replica's conversation lock is still handled.

Rasa 3.6 serialises the messages of one conversation with a ticket lock
(Redis when scaled out). When the replica holding the lock dies mid-turn,
its ticket lives on until it expires (``TICKET_LOCK_LIFETIME``, 60 s). A
message waiting behind it on another replica has a ticket of the same
lifetime, taken moments later; Rasa looks only once a second, so both have
often expired by the time it looks again, and the waiter then either loops
for ever (its own ticket gone, the lock still there) or gives up with
``LockError`` (the lock gone), which the REST channel answers with ``[]``:
the customer's message goes unanswered. Both were seen in
``tests/scale/test_scaled_stack.py`` when a replica was killed under load.

:func:`lock_renewing` waits like Rasa's ``LockStore.lock`` and releases the
same way, but when its ticket expired while it waited it takes a new one
(at most :data:`RENEWALS` times), so the message is handled once the dead
ticket has gone, still one at a time with the conversation's other messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

logger = logging.getLogger(__name__)

RENEWALS = 3
_original_lock = LockStore.lock


def _holds(lock: TicketLock | None, ticket: int) -> bool:
    """Whether ``ticket`` is still in the lock's line, unexpired."""
    return lock is not None and any(
        t.number == ticket and not t.has_expired() for t in lock.tickets
    )


@asynccontextmanager
async def lock_renewing(
    self: LockStore,
    conversation_id: str,
    lock_lifetime: float = LOCK_LIFETIME,
    wait_time_in_seconds: float = 1,
) -> AsyncIterator[TicketLock]:
    """Rasa's ``LockStore.lock``, taking a new ticket when its own expired while waiting.

    Raises:
        LockError: Its ticket expired more than :data:`RENEWALS` times.
    """
    ticket = self.issue_ticket(conversation_id, lock_lifetime)
    renewals = 0
    try:
        while True:
            lock = self.get_lock(conversation_id)
            if not _holds(lock, ticket):
                if renewals == RENEWALS:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'."
                    )
                renewals += 1
                logger.warning(
                    "the ticket of %s expired while waiting (a replica died holding the"
                    " lock?); waiting again with a new one",
                    conversation_id,
                )
                self.cleanup(conversation_id, ticket)
                ticket = self.issue_ticket(conversation_id, lock_lifetime)
                continue
            assert lock is not None
            if not lock.is_locked(ticket):
                break
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
        yield lock
    finally:
        self.cleanup(conversation_id, ticket)


def install() -> None:
    """Puts :func:`lock_renewing` in place of ``LockStore.lock`` (every lock store)."""
    LockStore.lock = lock_renewing
