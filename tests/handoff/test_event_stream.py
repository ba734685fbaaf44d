"""With RABBITMQ_URL, the service consumes Rasa's events from RabbitMQ: stored, then acknowledged.

Against the machine's real RabbitMQ (queue and exchange ``stream-test-…``),
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import aio_pika
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from handoff.api.app import create_app
from handoff.event_stream import QUEUE_ARGUMENTS, EventStreamConsumer, decoded
from handoff.settings import Settings
from tests.handoff.helpers import bot_event, user_event

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
T = 1_765_100_000.0


@pytest.fixture
def stream_name() -> Iterator[str]:
    name = f"stream-test-{uuid.uuid4().hex[:10]}"
    yield name

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.exchange_delete(name)

    asyncio.run(delete())


def publish(name: str, bodies: list[bytes]) -> None:
    """As Rasa's Pika broker does: persistent messages to the fanout exchange."""

    async def send() -> None:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(name, durable=True, arguments=QUEUE_ARGUMENTS)
            await queue.bind(exchange, "")
            for body in bodies:
                message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
                await exchange.publish(message, "")

    asyncio.run(send())


def waiting(name: str) -> int:
    async def count() -> int:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(name, durable=True, arguments=QUEUE_ARGUMENTS)
            return int(queue.declaration_result.message_count or 0)

    return asyncio.run(count())


def wait_for(check: Callable[[], bool], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def texts(db: Engine, cid: str) -> list[Any]:
    with db.connect() as connection:
        return list(
            connection.scalars(
                text("SELECT text FROM messages WHERE conversation_id = :c ORDER BY id"), {"c": cid}
            )
        )


def test_events_from_the_queue_are_stored_in_order_and_acknowledged(
    make_settings: Callable[..., Settings], db: Engine, stream_name: str
) -> None:
    settings = make_settings(
        rabbitmq_url=RABBITMQ, event_queue=stream_name, event_exchange=stream_name
    )
    events = [user_event("telegram:7", f"message {i}", T + 2 * i) for i in range(10)] + [
        bot_event("telegram:7", "an answer", T + 30)
    ]
    # Published while the service is not running: they wait in the queue.
    publish(stream_name, [json.dumps(event).encode() for event in events])
    with TestClient(create_app(settings)):
        wait_for(lambda: len(texts(db, "telegram:7")) == 11)
        wait_for(lambda: waiting(stream_name) == 0)
    assert waiting(stream_name) == 0  # consumer gone: nothing unacknowledged came back
    assert texts(db, "telegram:7") == [f"message {i}" for i in range(10)] + ["an answer"]


def test_a_poisoned_event_is_a_dead_letter_and_never_blocks_the_queue(
    make_settings: Callable[..., Settings], db: Engine, stream_name: str
) -> None:
    settings = make_settings(
        rabbitmq_url=RABBITMQ, event_queue=stream_name, event_exchange=stream_name
    )
    poisoned = user_event("wechat:o9", "bad\x00text", T)
    good = user_event("wechat:o9", "good text", T + 1)
    publish(stream_name, [b"{not json", json.dumps(poisoned).encode(), json.dumps(good).encode()])
    with TestClient(create_app(settings)):
        wait_for(lambda: texts(db, "wechat:o9") == ["good text"])
        wait_for(lambda: waiting(stream_name) == 0)
    with db.connect() as connection:
        reasons = list(connection.scalars(text("SELECT reason FROM dead_letters ORDER BY id")))
    assert len(reasons) == 2


def test_a_redelivered_event_is_stored_once(
    make_settings: Callable[..., Settings], db: Engine, stream_name: str
) -> None:
    settings = make_settings(
        rabbitmq_url=RABBITMQ, event_queue=stream_name, event_exchange=stream_name
    )
    event = json.dumps(user_event("webchat:s1", "only once", T)).encode()
    # Killed between the write and the ack, say; the queue is consumed in order, so
    # once the event after them is stored, the redelivery has been handled.
    after = json.dumps(user_event("webchat:s1", "the next one", T + 1)).encode()
    publish(stream_name, [event, event, after])
    with TestClient(create_app(settings)):
        wait_for(lambda: len(texts(db, "webchat:s1")) >= 2)
    assert texts(db, "webchat:s1") == ["only once", "the next one"]


def test_what_is_not_json_comes_back_as_text() -> None:
    assert decoded(b'{"a": 1}') == {"a": 1}
    assert decoded(b"\xff{") == "\ufffd{"


def test_a_passing_failure_is_retried_in_place_and_a_final_one_kept(stream_name: str) -> None:
    """The database away for a moment: same event again, order kept; a bug: dead letter."""
    stored: list[str] = []
    kept: list[tuple[Any, str]] = []
    failures = {"away": 2}

    async def ingest(batch: list[Any]) -> tuple[int, list[Any]]:
        text = batch[0]["text"]
        if text == "second" and failures["away"] > 0:
            failures["away"] -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database away"))
        if text == "broken":
            raise KeyError("a field ingest did not foresee")
        stored.append(text)
        return 1, []

    async def keep(event: Any, reason: str) -> None:
        kept.append((event["text"], reason))

    texts = ["first", "second", "broken", "third"]
    publish(stream_name, [json.dumps(user_event("telegram:9", t, T)).encode() for t in texts])

    async def consume() -> None:
        consumer = EventStreamConsumer(
            RABBITMQ, queue=stream_name, exchange=stream_name, ingest=ingest, keep=keep
        )
        consumer.start()
        for _ in range(200):
            if consumer.consumed == 4:
                break
            await asyncio.sleep(0.05)
        await consumer.stop()

    asyncio.run(consume())
    assert stored == ["first", "second", "third"]
    assert [text for text, _ in kept] == ["broken"] and "KeyError" in kept[0][1]
    assert waiting(stream_name) == 0
