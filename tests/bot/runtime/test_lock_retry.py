"""A message behind a dead holder's conversation lock, on Rasa's real Redis lock store."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from urllib.parse import urlsplit

import pytest
from rasa.core.lock_store import LockError, RedisLockStore

from bot.runtime import lock_retry

REDIS = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))


def _store() -> RedisLockStore:
    return RedisLockStore(
        host=REDIS.hostname or "127.0.0.1",
        port=REDIS.port or 6379,
        db=int(REDIS.path.lstrip("/") or 0),
        key_prefix=f"test{uuid.uuid4().hex[:8]}",
    )


def _dead_holder(store: RedisLockStore, conversation_id: str) -> None:
    """A replica took the conversation's ticket, then died: nobody ever releases it."""
    store.issue_ticket(conversation_id, lock_lifetime=1)


async def _handled(lock_function: object, store: RedisLockStore, conversation: str) -> bool:
    # Same lifetime as the dead ticket, looking once a second: as Rasa waits.
    async with lock_function(store, conversation, 1, 1):  # type: ignore[operator]
        return True


async def test_rasa_alone_never_handles_a_message_waiting_behind_a_dead_holder() -> None:
    store, conversation = _store(), f"webchat:{uuid.uuid4().hex}"
    _dead_holder(store, conversation)
    with pytest.raises((LockError, asyncio.TimeoutError)):
        await asyncio.wait_for(_handled(lock_retry._original_lock, store, conversation), 5)


async def test_with_renewal_it_is_handled_once_the_dead_ticket_expires() -> None:
    store, conversation = _store(), f"webchat:{uuid.uuid4().hex}"
    _dead_holder(store, conversation)
    started = time.monotonic()
    assert await asyncio.wait_for(_handled(lock_retry.lock_renewing, store, conversation), 10)
    assert time.monotonic() - started >= 0.9  # it did wait for the dead ticket
    lock = store.get_lock(conversation)
    assert lock is None or not lock.tickets  # released as Rasa releases it


async def test_a_live_holder_is_waited_for_not_overtaken() -> None:
    store, conversation = _store(), f"webchat:{uuid.uuid4().hex}"
    order: list[str] = []

    async def turn(name: str, hold_s: float) -> None:
        async with lock_retry.lock_renewing(store, conversation, 30, 0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("first", 0.5))
    await asyncio.sleep(0.1)
    await asyncio.gather(first, turn("second", 0))
    assert order == ["first in", "first out", "second in", "second out"]
