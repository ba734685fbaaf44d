"""The RabbitMQ event stream: Rasa's own Pika event broker, one durable queue.

With ``RABBITMQ_URL`` (or ``EVENT_BROKER_URL``) set, Rasa publishes every
tracker event as a persistent message to the fanout exchange
``EVENT_EXCHANGE``, bound to the durable queue ``EVENT_QUEUE``; the handoff
service consumes that queue and acknowledges each message once stored
(``handoff/event_stream.py``), so events survive a restart of Rasa, of the
service, or of RabbitMQ.

The queue is declared a *single active consumer* queue (identically here and
by the consumer): with several handoff replicas, one consumes at a time, so
the events of every conversation are stored in the order Rasa produced them;
another takes over when it goes away. This is the only change to Rasa's
broker: its ``_bind_queue`` declares the queue with that argument.
"""

from __future__ import annotations

from asyncio import AbstractEventLoop
from urllib.parse import unquote, urlsplit

import aio_pika
import rasa.shared.core.events  # noqa: F401  (Rasa's pika module uses it without importing it)
from rasa.core.brokers.pika import PikaEventBroker

from bot.settings import Settings

# Must match handoff/event_stream.py: RabbitMQ refuses a queue re-declared otherwise.
QUEUE_ARGUMENTS = {"x-single-active-consumer": True}


class OrderedPikaEventBroker(PikaEventBroker):
    """Rasa's Pika broker, its queues declared with a single active consumer."""

    @staticmethod
    async def _bind_queue(
        queue_name: str, channel: aio_pika.RobustChannel, exchange: aio_pika.Exchange
    ) -> None:
        queue = await channel.declare_queue(queue_name, durable=True, arguments=QUEUE_ARGUMENTS)
        await queue.bind(exchange, "")


async def rabbitmq_broker(
    settings: Settings, event_loop: AbstractEventLoop | None = None
) -> OrderedPikaEventBroker:
    """Rasa's Pika broker for the settings, connected (waits for RabbitMQ, then fails)."""
    url = settings.event_broker_url or ""
    parts = urlsplit(url)
    broker = OrderedPikaEventBroker(
        url,
        username=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        port=parts.port or 5672,
        queues=[settings.event_queue],
        exchange_name=settings.event_exchange,
        event_loop=event_loop,
        connection_attempts=20,
        retry_delay_in_seconds=3,
    )
    await broker.connect()
    return broker
