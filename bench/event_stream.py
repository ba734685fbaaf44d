"""Event delivery from Rasa to the handoff service: the embedded outbox, RabbitMQ and
the former in-memory buffer, side by side in one run.

One real handoff service (``.venv-handoff``, ``python -m handoff``) on a
throw-away PostgreSQL database, consuming a RabbitMQ queue of its own, takes
the events of all three brokers:

- ``outbox (SQLite)``: :class:`bot.runtime.event_broker.HandoffEventBroker`,
  its outbox in a SQLite file (the embedded default);
- ``outbox (PostgreSQL)``: the same, its outbox in PostgreSQL (``DATABASE_URL``);
- ``RabbitMQ``: Rasa's Pika broker (:mod:`bot.runtime.pika_broker`), consumed
  by the service (``handoff/event_stream.py``);
- ``in-memory (before)``: the broker as it was before the durable stream (a
  bounded buffer in Rasa's process), loaded from git at ``--before``.

Events are handed over in saves of four (a turn: user, action, bot,
action_listen), as Rasa's tracker store does. For each: what publishing costs
Rasa per event (µs, mean), the latency from
``publish`` to the event being stored by the service (p50/p95 ms, at a
steady ``--rate`` events/s), and the throughput of a burst of ``--burst``
events published at once (events/s until the last is stored). Customer
messages of 20 conversations; "stored" is read from the service's database.

    .venv/bin/python -m bench.event_stream [--events 150] [--rate 10] [--burst 300] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import secrets
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import structlog
from rasa.core.brokers.broker import EventBroker

from bot import settings as bot_settings
from bot.runtime.event_broker import HandoffEventBroker
from bot.runtime.pika_broker import rabbitmq_broker

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
CONVERSATIONS = 20
TURN = 4  # events per tracker save, as in a turn: user, action, bot, action_listen
# Not HANDOFF_TIMEOUT's 3 s: on a loaded machine a batch of 200 can take longer
# to store, and a retried batch would measure the retries, not the transport.
POST_TIMEOUT_S = 60.0


@contextmanager
def database(name: str) -> Iterator[str]:
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def handoff_service(database_url: str, queue: str, token: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "RASA_"))},
        "BOT_IGNORE_DOTENV": "1",
        "HANDOFF_HOST": "127.0.0.1",
        "HANDOFF_PORT": str(port),
        "HANDOFF_DATABASE_URL": database_url,
        "HANDOFF_SERVICE_TOKEN": token,
        "HANDOFF_SECRET_KEY": secrets.token_urlsafe(32),
        "RABBITMQ_URL": RABBITMQ,
        "EVENT_QUEUE": queue,
        "EVENT_EXCHANGE": queue,
    }
    log = open(Path(tempfile.gettempdir()) / f"{queue}-handoff.log", "wb")
    process = subprocess.Popen(
        [str(ROOT / ".venv-handoff" / "bin" / "python"), "-m", "handoff"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the handoff service exited; see {log.name}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the handoff service did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StoredWatch:
    """Polls the service's database: when the count of a prefix's customer turns grew."""

    def __init__(self, database_url: str, prefix: str) -> None:
        self._engine = sa.create_engine(database_url, future=True)
        self._prefix = prefix
        self.reached: list[float] = []  # reached[i]: when the (i+1)-th event was stored
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StoredWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def _run(self) -> None:
        query = sa.text(
            "SELECT count(*) FROM messages WHERE role = 'customer' AND conversation_id LIKE :p"
        )
        with self._engine.connect() as connection:
            while not self._stop.is_set():
                count = int(connection.execute(query, {"p": f"{self._prefix}:%"}).scalar() or 0)
                now = time.perf_counter()
                while len(self.reached) < count:
                    self.reached.append(now)
                connection.commit()
                time.sleep(0.005)

    def wait_for(self, count: int, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.reached) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(self.reached)} of {count} events stored")
            time.sleep(0.01)


def _event(prefix: str, index: int, base_ts: float) -> dict[str, Any]:
    return {
        "sender_id": f"{prefix}:{index % CONVERSATIONS}",
        "event": "user",
        "timestamp": base_ts + index * 0.001,
        "text": f"bench message {index}",
        "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": []},
        "input_channel": "rest",
    }


def _publish(broker: Any, turn: list[dict[str, Any]]) -> None:
    """As Rasa's tracker store hands over one save's events (``event_broker.install``)."""
    if isinstance(broker, HandoffEventBroker):
        broker.publish_many(turn)
    else:
        for event in turn:
            broker.publish(event)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


async def measure(
    make: Callable[[], Any], database_url: str, events: int, rate: float, burst: int
) -> dict[str, float]:
    """Steady load then a burst through one broker; the numbers of the table."""
    broker = await make()
    try:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        base_ts = time.time()
        published: list[float] = []
        cost_s = 0.0
        with StoredWatch(database_url, prefix) as watch:
            for first in range(0, events, TURN):
                turn = [_event(prefix, i, base_ts) for i in range(first, min(first + TURN, events))]
                started = time.perf_counter()
                _publish(broker, turn)
                cost_s += time.perf_counter() - started
                published.extend([started] * len(turn))
                await asyncio.sleep(len(turn) / rate)
            await asyncio.to_thread(watch.wait_for, events)
            latencies = [(watch.reached[i] - published[i]) * 1000 for i in range(events)]
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        with StoredWatch(database_url, prefix) as watch:
            started = time.perf_counter()
            for first in range(0, burst, TURN):
                last = min(first + TURN, burst)
                _publish(broker, [_event(prefix, i, base_ts + 100) for i in range(first, last)])
                if first % 200 == 0:
                    await asyncio.sleep(0)  # Rasa's loop would get a turn between messages
            await asyncio.to_thread(watch.wait_for, burst)
            took_s = watch.reached[burst - 1] - started
        return {
            "publish_us": cost_s / events * 1e6,
            "p50_ms": _percentile(latencies, 50),
            "p95_ms": _percentile(latencies, 95),
            "burst_per_s": burst / took_s,
        }
    finally:
        await broker.close()


def _before_broker(commit: str) -> type[EventBroker]:
    source = subprocess.run(
        ["git", "show", f"{commit}:bot/runtime/event_broker.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "event_broker_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("event_broker_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HandoffEventBroker  # type: ignore[no-any-return]


async def run(args: argparse.Namespace) -> None:
    # As in a served Rasa: no debug lines (Rasa's Pika broker logs each event at debug).
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    logging.basicConfig(level=logging.WARNING)
    token = secrets.token_urlsafe(24)
    queue = f"bench-events-{uuid.uuid4().hex[:8]}"
    before = _before_broker(args.before)
    name = f"bench_events_{uuid.uuid4().hex[:8]}"
    with (
        database(name) as handoff_db,
        database(name + "_rasa") as rasa_db,
        handoff_service(handoff_db, queue, token) as url,
    ):
        os.environ.update({"RABBITMQ_URL": RABBITMQ, "EVENT_QUEUE": queue, "EVENT_EXCHANGE": queue})
        settings = bot_settings.load(read_dotenv=False)
        sqlite = Path(tempfile.mkdtemp()) / "rasa.db"

        async def outbox_sqlite() -> Any:
            return HandoffEventBroker(
                url=url, token=token, outbox_url=f"sqlite:///{sqlite}", timeout_s=POST_TIMEOUT_S
            )

        async def outbox_postgres() -> Any:
            return HandoffEventBroker(
                url=url, token=token, outbox_url=rasa_db, timeout_s=POST_TIMEOUT_S
            )

        async def rabbitmq() -> Any:
            return await rabbitmq_broker(settings, asyncio.get_running_loop())

        async def in_memory() -> Any:
            return before(url=url, token=token, timeout_s=POST_TIMEOUT_S)

        brokers = {
            "in-memory (before)": in_memory,
            "outbox (SQLite, default)": outbox_sqlite,
            "outbox (PostgreSQL)": outbox_postgres,
            "RabbitMQ": rabbitmq,
        }
        results: dict[str, list[dict[str, float]]] = {label: [] for label in brokers}
        for _ in range(args.rounds):
            for label, make in brokers.items():
                results[label].append(
                    await measure(make, handoff_db, args.events, args.rate, args.burst)
                )
        print(
            f"{args.events} events at {args.rate:g}/s, then a burst of {args.burst};"
            f" {args.rounds} round(s), medians; {CONVERSATIONS} conversations\n"
        )
        print("| broker | publish (µs, mean) | delivery p50 (ms) | p95 (ms) | burst (events/s) |")
        print("|---|---|---|---|---|")
        for label, rows in results.items():

            def median(key: str, rows: list[dict[str, float]] = rows) -> float:
                return sorted(row[key] for row in rows)[len(rows) // 2]

            print(
                f"| {label} | {median('publish_us'):.0f} | {median('p50_ms'):.1f} |"
                f" {median('p95_ms'):.1f} | {median('burst_per_s'):.0f} |"
            )


def main() -> None:
    """Runs the comparison and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", default="bdbb3c5", help="the commit of the in-memory broker")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
