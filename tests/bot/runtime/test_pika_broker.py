"""With RABBITMQ_URL, Rasa's own Pika broker publishes every event to a durable, ordered queue."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import read_endpoint_config

from bot import settings
from bot.runtime.pika_broker import QUEUE_ARGUMENTS, OrderedPikaEventBroker, rabbitmq_broker
from bot.runtime.serve import rasa_environment

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
ROOT = settings.PROJECT_ROOT


@pytest.fixture
async def names() -> AsyncIterator[str]:
    name = f"stream-test-{uuid.uuid4().hex[:10]}"
    yield name
    connection = await aio_pika.connect(RABBITMQ)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(name)


async def test_endpoints_yml_gives_rasas_pika_broker_when_rabbitmq_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, names: str
) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RABBITMQ_URL", RABBITMQ)
    monkeypatch.setenv("EVENT_QUEUE", names)
    monkeypatch.setenv("EVENT_EXCHANGE", names)
    for name, value in rasa_environment(settings.load()).items():  # as `bot serve rasa`
        monkeypatch.setenv(name, value)
    created = await EventBroker.create(
        read_endpoint_config(str(ROOT / "endpoints.yml"), "event_broker")
    )
    assert isinstance(created, OrderedPikaEventBroker)
    assert isinstance(created, PikaEventBroker)  # Rasa's own broker
    for index in range(20):
        created.publish({"sender_id": f"telegram:{index % 3}", "event": "user", "timestamp": index})
    await asyncio.sleep(0.5)
    await created.close()
    assert not (tmp_path / "rasa.db").exists()  # no outbox on this path

    connection = await aio_pika.connect(RABBITMQ)
    async with connection:
        channel = await connection.channel()
        # Re-declaring with other arguments fails: the queue is durable, single active consumer.
        queue = await channel.declare_queue(names, durable=True, arguments=QUEUE_ARGUMENTS)
        received = []
        for _ in range(20):
            message = await queue.get(timeout=5)
            assert message is not None
            assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            received.append(json.loads(message.body)["timestamp"])
            await message.ack()
    assert received == list(range(20))


async def test_the_queue_survives_a_broker_that_is_gone(
    names: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("RABBITMQ_URL", RABBITMQ)
    monkeypatch.setenv("EVENT_QUEUE", names)
    monkeypatch.setenv("EVENT_EXCHANGE", names)
    first = await rabbitmq_broker(settings.load(read_dotenv=False))
    first.publish({"sender_id": "wechat:o1", "event": "user", "timestamp": 1})
    await asyncio.sleep(0.3)
    await first.close()  # Rasa stops; nothing consumed yet
    second = await rabbitmq_broker(settings.load(read_dotenv=False))
    second.publish({"sender_id": "wechat:o1", "event": "user", "timestamp": 2})
    await asyncio.sleep(0.3)
    await second.close()
    connection = await aio_pika.connect(RABBITMQ)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(names, durable=True, arguments=QUEUE_ARGUMENTS)
        assert queue.declaration_result.message_count == 2
