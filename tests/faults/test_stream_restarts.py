"""Nothing lost on the event stream: the handoff service killed, Rasa restarted, events arrive.

The real stack (demo shop, action server, Rasa with the trained model) and
the real handoff service on PostgreSQL. While a steady load of conversations
runs through Rasa's REST channel, the handoff service is killed (SIGKILL),
then Rasa is killed and started again, then the service comes back: every
customer message Rasa answered reaches the inbox, once, in order per
conversation. On both paths: the embedded outbox (nothing set: the SQLite
tracker store's file; and with ``DATABASE_URL``: PostgreSQL) and RabbitMQ
(``RABBITMQ_URL``, queue and exchange ``stream-test-…``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from bot.training.model_cache import ensure_model
from tests.support.postgres import throwaway_database
from tests.support.processes import free_port, handoff_process, running_stack, wait_until
from tests.support.stream_stack import SteadyLoad, kill, restart, stored_turns

pytestmark = pytest.mark.stack
logger = logging.getLogger(__name__)

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def stream_names() -> Iterator[str]:
    name = f"stream-test-{uuid.uuid4().hex[:10]}"
    yield name

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.exchange_delete(name)

    asyncio.run(delete())


@pytest.mark.parametrize("path", ["outbox-sqlite", "outbox-postgres", "rabbitmq"])
def test_every_event_arrives_after_the_service_is_killed_and_rasa_restarted(
    path: str, tmp_path: Path, stream_names: str
) -> None:
    ensure_model()
    with (
        throwaway_database("stream_faults") as handoff_db,
        throwaway_database("stream_rasa") as rasa_db,
    ):
        handoff_port = free_port()
        handoff_url = f"http://127.0.0.1:{handoff_port}"
        settings = {"HANDOFF_URL": handoff_url, "HANDOFF_SERVICE_TOKEN": secrets.token_urlsafe(24)}
        if path == "outbox-postgres":
            settings["DATABASE_URL"] = rasa_db
        if path == "rabbitmq":
            settings |= {
                "RABBITMQ_URL": RABBITMQ,
                "EVENT_QUEUE": stream_names,
                "EVENT_EXCHANGE": stream_names,
            }
        with running_stack(tmp_path, **settings) as stack:
            rasa = next(p for p in stack.processes if p.name == "rasa")
            handoff = handoff_process(tmp_path, rasa.env, handoff_port, stack.rasa_url)
            handoff.env["HANDOFF_DATABASE_URL"] = handoff_db
            try:
                restart(handoff, f"{handoff_url}/health")
                load = SteadyLoad(stack.rasa_url, prefix=f"stream{uuid.uuid4().hex[:6]}")
                load.start()
                wait_until(lambda: load.sent >= 6, timeout_s=120, what="first answers")
                kill(handoff)
                sent_at_kill = load.sent
                wait_until(lambda: load.sent >= sent_at_kill + 6, timeout_s=120, what="answers")
                time.sleep(1.0)  # Rasa's broker has published the last turn
                kill(rasa)
                rasa_restart_s = restart(rasa, f"{stack.rasa_url}/status")
                sent_after_restart = load.sent
                wait_until(
                    lambda: load.sent >= sent_after_restart + 6, timeout_s=120, what="answers"
                )
                load.stop()
                handoff_back_s = restart(handoff, f"{handoff_url}/health")
                started = time.monotonic()
                wait_until(
                    lambda: stored_turns(handoff_db, load.prefix) == dict(load.answered),
                    timeout_s=120,
                    what="every answered message in the inbox",
                )
                catch_up_s = time.monotonic() - started
            finally:
                handoff.stop()
            stored = stored_turns(handoff_db, load.prefix)
            # Every answered message once, in the order the customer wrote it.
            assert stored == dict(load.answered)
            assert sum(len(texts) for texts in stored.values()) == load.sent >= 18
            logger.warning(
                "%s: %d answered, %d refused while Rasa restarted (%.1f s);"
                " service back in %.1f s, caught up %.1f s later",
                path,
                load.sent,
                load.refused,
                rasa_restart_s,
                handoff_back_s,
                catch_up_s,
            )
