"""The RabbitMQ event stream's consumer: Rasa's events, stored, then acknowledged.

With ``RABBITMQ_URL`` (or ``EVENT_BROKER_URL``) set, Rasa's Pika event broker
publishes every tracker event to the durable queue ``EVENT_QUEUE``
(``bot/runtime/pika_broker.py``). This consumer takes them one at a time, in
queue order, hands each to the same ingest as ``POST /api/internal/events``
and acknowledges it only once it is stored (or refused and kept as a dead
letter): a service that stops or is killed before the write gets the message
again from RabbitMQ. A write that fails for a passing reason (the database
unreachable: SQLAlchemy's ``OperationalError``/``InterfaceError``, a timeout,
an ``OSError``) is retried with backoff before the next message, so order
holds; any other failure is final for that event: it is kept as a dead
letter with the reason and acknowledged, so it never blocks the queue. The
queue has a single active consumer, so with several replicas one consumes at
a time.

The service stays idempotent by Rasa timestamp, so a message delivered twice
(killed between the write and the acknowledgement) is stored once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.exc import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Must match bot/runtime/pika_broker.py: RabbitMQ refuses a queue re-declared otherwise.
QUEUE_ARGUMENTS = {"x-single-active-consumer": True}
PREFETCH = 200
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0

Ingest = Callable[[list[Any]], Awaitable[tuple[int, list[Any]]]]
Keep = Callable[[Any, str], Awaitable[None]]
# What a later try can fix: the database (or the network to it) away for now.
PASSING = (OperationalError, InterfaceError, OSError, asyncio.TimeoutError)


def decoded(body: bytes) -> Any:
    """The event in a message; what is not JSON comes back as text, for the dead letters."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return body.decode("utf-8", errors="replace")


class EventStreamConsumer:
    """Consumes ``queue`` (bound to the fanout ``exchange``) at ``url`` into ``ingest``.

    Args:
        url: The AMQP URL.
        queue: The queue Rasa's broker publishes to.
        exchange: Its fanout exchange.
        ingest: Stores a batch of events; returns (used, refused).
        keep: Keeps an event that cannot be stored, with the reason, as a dead letter.
    """

    def __init__(self, url: str, *, queue: str, exchange: str, ingest: Ingest, keep: Keep) -> None:
        self._url = url
        self._queue = queue
        self._exchange = exchange
        self._ingest = ingest
        self._keep = keep
        self._task: asyncio.Task[None] | None = None
        self.consumed = 0

    def start(self) -> None:
        """Starts consuming in the background (reconnecting until :meth:`stop`)."""
        self._task = asyncio.create_task(self._run(), name="handoff-event-stream")

    async def stop(self) -> None:
        """Stops consuming; unacknowledged messages go back to the queue."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff_s = FIRST_BACKOFF_S
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("event stream at %s unavailable (%r); retrying", self._queue, error)
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    async def _consume(self) -> None:
        connection = await aio_pika.connect_robust(self._url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            exchange = await channel.declare_exchange(self._exchange, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(
                self._queue, durable=True, arguments=QUEUE_ARGUMENTS
            )
            await queue.bind(exchange, "")
            logger.info("consuming Rasa's events from queue %s", self._queue)
            async with queue.iterator() as messages:
                async for message in messages:
                    await self._store(message)

    async def _store(self, message: AbstractIncomingMessage) -> None:
        event = decoded(message.body)
        backoff_s = FIRST_BACKOFF_S
        while True:
            try:
                await self._ingest([event])
                break
            except PASSING:
                logger.exception("storing an event from the stream failed; retrying it")
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
            except Exception as error:
                logger.exception("an event from the stream cannot be stored; kept as dead letter")
                await self._keep(event, f"not storable: {type(error).__name__}: {error!r}"[:500])
                break
        await message.ack()
        self.consumed += 1
