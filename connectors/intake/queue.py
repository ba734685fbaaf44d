"""Handing stored messages to Rasa: one at a time per conversation, in order, until done.

:meth:`Intake.accept` stores a message (the connector acknowledges only
after it returned) and wakes its conversation's *drainer*: a task that takes
the conversation's first pending message, hands it to the channel's handler
(which calls Rasa), marks it done, and goes on until nothing is pending. So
a conversation's messages are processed one at a time in the platform's
order, and different conversations in parallel.

When the handler fails because a server is unreachable (Redis, Rasa's lock
store; the database), the message stays first in line and is tried again
after a pause that doubles up to ``max_backoff_s``, for as long as it takes:
the customer is answered once the server is back. Any other failure is
counted, and after ``max_failures`` the message is given up (marked done
with the reason) so it never blocks its conversation.

Every ``replay_every_s`` (and at start-up) conversations with a pending
message whose lease ran out are woken: the messages of a process that died,
or of this one before a restart. A message whose processing was started
before may have been handled without its end being recorded; when a check
of Rasa's tracker (``already_handled``) says so, it is marked done without
being processed again: processed at most once to completion, at least once
overall.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.channels.channel import OutputChannel

from connectors.background import BackgroundTasks
from connectors.database import run_quick
from connectors.intake.config import IntakeConfig
from connectors.intake.output import CountedOutput
from connectors.intake.store import InboundStore, Received, Stored

logger = logging.getLogger(__name__)

Handler = Callable[[Stored], Awaitable[None]]
Notifier = Callable[[str, dict[str, Any]], Awaitable[None]]
AlreadyHandled = Callable[[Stored], Awaitable[bool]]
T = TypeVar("T")

# How often a drainer looks again when another process holds its
# conversation's first message.
WAIT_FOR_OTHER_S = 0.25


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says a server could not be reached (worth waiting for).

    Rasa's lock store wraps Redis's errors in its ``LockError`` (also raised
    when a conversation's lock stays taken too long): both pass.
    """
    from rasa.core.lock_store import LockError
    from redis import exceptions as redis_errors

    unreachable: tuple[type[BaseException], ...] = (
        OSError,
        asyncio.TimeoutError,
        LockError,
        redis_errors.ConnectionError,
        redis_errors.TimeoutError,
        redis_errors.BusyLoadingError,
        sa.exc.OperationalError,
    )
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, unreachable):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Intake:
    """One channel's durable intake.

    Args:
        store: The inbound table.
        channel: The channel's name; its rows are this intake's.
        config: Leases, replay and retry settings.
    """

    def __init__(
        self, store: InboundStore, channel: str, config: IntakeConfig | None = None
    ) -> None:
        self.store = store
        self.channel = channel
        self.config = config or IntakeConfig.from_env()
        self.owner = uuid.uuid4().hex
        self._handler: Handler | None = None
        self._already_handled: AlreadyHandled | None = None
        self._drainers: dict[str, asyncio.Task[None]] = {}
        self._tasks = BackgroundTasks()
        self._notify: Notifier | None = None
        self._notice_timers: dict[str, asyncio.TimerHandle] = {}
        self._noticed: set[str] = set()
        self._replayer: asyncio.Task[None] | None = None

    def bind(
        self,
        handler: Handler,
        tasks: BackgroundTasks | None = None,
        notify: Notifier | None = None,
    ) -> None:
        """Sets what processes a message, the channel's tasks the work runs among,
        and what sends a waiting customer the "one moment" notice
        (``notify(conversation_id, payload)``).

        Waiting for ``tasks`` (tests, shutdown) then waits for the intake too.
        """
        self._handler = handler
        if tasks is not None:
            self._tasks = tasks
        self._notify = notify

    def check_with(self, already_handled: AlreadyHandled) -> None:
        """Sets the check of messages tried before (once Rasa's agent is loaded)."""
        self._already_handled = already_handled

    async def accept(
        self, *, key: str, conversation_id: str, position: str, payload: dict[str, Any]
    ) -> bool:
        """Stores the message and schedules it; False for a message stored before.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed; nothing was
                stored, so the platform must not be acknowledged.
        """
        received = Received(key, self.channel, conversation_id, position, payload)
        stored = await self._quick(
            self.store.add, received, owner=self.owner, lease_s=self.config.lease_s
        )
        if stored:
            self.wake(conversation_id)
            if self._notify is not None:
                self._notice_timers[key] = asyncio.get_running_loop().call_later(
                    self.config.wait_notice_s, self._still_waiting, key, conversation_id, payload
                )
        return stored

    def _still_waiting(self, key: str, conversation_id: str, payload: dict[str, Any]) -> None:
        self._notice_timers.pop(key, None)
        if conversation_id in self._noticed:
            return  # once per wait
        self._noticed.add(conversation_id)
        self._tasks.start(
            self._send_notice(key, conversation_id, payload), name=f"notice {conversation_id}"
        )

    async def _send_notice(self, key: str, conversation_id: str, payload: dict[str, Any]) -> None:
        if self._notify is None or await self._quick(self.store.is_done, key):
            self._noticed.discard(conversation_id)
            return
        logger.info("inbound %s waits; the customer is told", key)
        await self._notify(conversation_id, payload)

    def output_for(self, message: Stored, output: OutputChannel) -> CountedOutput:
        """``output`` for Rasa's replies to ``message``: counted, none sent twice."""

        async def count_sent() -> None:
            await self._quick(self.store.count_sent, message.key)

        return CountedOutput(output, already_sent=message.sent, count_sent=count_sent)

    def _done_with(self, key: str) -> None:
        timer = self._notice_timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def wake(self, conversation_id: str) -> None:
        """Makes sure a drainer works through the conversation's pending messages."""
        drainer = self._drainers.get(conversation_id)
        if drainer is not None and not drainer.done():
            return
        task = self._tasks.start(self._drain(conversation_id), name=f"intake {conversation_id}")
        self._drainers[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(conversation_id, done))

    def _forget(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        # The tasks log a failure; a message left pending is replayed.
        if self._drainers.get(conversation_id) is task:
            del self._drainers[conversation_id]
            # Nothing left in line: the next wait may be told again.
            self._noticed.discard(conversation_id)

    async def _drain(self, conversation_id: str) -> None:
        backoff = 0.0
        while True:
            try:
                message = await self._quick(
                    self.store.take_next,
                    self.channel,
                    conversation_id,
                    owner=self.owner,
                    lease_s=self.config.lease_s,
                )
            except sa.exc.SQLAlchemyError:
                logger.exception("inbound table unavailable; %s waits", conversation_id)
                backoff = self._next_backoff(backoff)
                await asyncio.sleep(backoff)
                continue
            if message is False:
                return
            if message is True:
                # Another process holds the first message: let it finish.
                await asyncio.sleep(WAIT_FOR_OTHER_S)
                continue
            if await self._process(message):
                backoff = 0.0
            else:
                backoff = self._next_backoff(backoff)
                await asyncio.sleep(backoff)

    def _next_backoff(self, backoff: float) -> float:
        return min(max(backoff * 2, 0.25), self.config.max_backoff_s)

    async def _process(self, message: Stored) -> bool:
        """Processes ``message``; False when it must be tried again."""
        renewing = asyncio.get_running_loop().create_task(self._renew(message.key))
        try:
            if message.tries > 1 and await self._handled_before(message):
                logger.info("inbound %s was handled before its end was recorded", message.key)
                await self._quick(self.store.finish, message.key, "handled before")
                self._done_with(message.key)
                return True
            if self._handler is None:
                raise RuntimeError("the intake has no handler yet")
            await self._handler(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return await self._failed(message, error)
        finally:
            renewing.cancel()
        await self._quick(self.store.finish, message.key, "handled")
        self._done_with(message.key)
        return True

    async def _handled_before(self, message: Stored) -> bool:
        if self._already_handled is None:
            return False
        return await self._already_handled(message)

    async def _failed(self, message: Stored, error: Exception) -> bool:
        if is_unreachable(error):
            logger.warning("inbound %s waits, a server is unreachable: %r", message.key, error)
            return False
        failures = await self._quick(self.store.failed, message.key)
        logger.error(
            "inbound %s failed (%d of %d)",
            message.key,
            failures,
            self.config.max_failures,
            exc_info=error,
        )
        if failures < self.config.max_failures:
            return False
        await self._quick(self.store.finish, message.key, f"given up: {error!r}")
        self._done_with(message.key)
        return True

    async def _renew(self, key: str) -> None:
        every = self.config.lease_s / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self._quick(
                    self.store.renew, key, owner=self.owner, lease_s=self.config.lease_s
                )
            except sa.exc.SQLAlchemyError:
                logger.warning("could not renew the lease of %s", key, exc_info=True)

    def start(self) -> None:
        """Starts looking for unfinished messages, now and every ``replay_every_s``."""
        if self._replayer is None or self._replayer.done():
            self._replayer = asyncio.get_running_loop().create_task(
                self._replay(), name=f"intake replay {self.channel}"
            )

    async def _replay(self) -> None:
        while True:
            try:
                for conversation_id in await self._quick(self.store.due, self.channel):
                    self.wake(conversation_id)
            except sa.exc.SQLAlchemyError:
                logger.warning("inbound table unavailable for the replay", exc_info=True)
            await asyncio.sleep(self.config.replay_every_s)

    async def wait(self) -> None:
        """Waits until no conversation has work in this process (tests, shutdown)."""
        while self._drainers:
            await asyncio.gather(*list(self._drainers.values()), return_exceptions=True)

    async def stop(self, timeout_s: float) -> None:
        """Stops the replay and lets messages in flight finish for at most ``timeout_s``.

        What is left stays pending and is taken up after the next start.
        """
        if self._replayer is not None:
            self._replayer.cancel()
            self._replayer = None
        for timer in self._notice_timers.values():
            timer.cancel()
        self._notice_timers.clear()
        try:
            await asyncio.wait_for(asyncio.shield(self.wait()), timeout_s)
        except asyncio.TimeoutError:
            logger.warning("%d %s conversations still in flight", len(self._drainers), self.channel)
            for task in list(self._drainers.values()):
                task.cancel()

    @property
    def in_flight(self) -> int:
        """Conversations this process is working on."""
        return len(self._drainers)

    async def _quick(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if kwargs:
            return await run_quick(self.store.local, lambda: call(*args, **kwargs))
        return await run_quick(self.store.local, call, *args)
