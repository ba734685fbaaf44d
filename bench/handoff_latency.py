"""Handoff service latency: live view, agent reply, inbox list (issue 4 targets).

Starts the real service (``python -m handoff``) on a fresh PostgreSQL database
with Redis pub/sub, and a stand-in connector (Rasa's HTTP API and
``/webhooks/<channel>/outbound``, answering at once). Then:

1. live view: 100 conversations handed off and claimed by four agents through
   the API; customer messages posted to ``/api/internal/events`` as the Rasa
   event broker does, timed until the assignee's ``/api/ws`` pushes
   ``message.created``;
2. agent reply: ``POST /api/conversations/{id}/messages``, timed until the
   stand-in connector receives the outbound text (customer messages and agent
   replies run at the same time, like a busy inbox);
3. inbox list: 10,000 conversations and 1,000,000 messages seeded with
   ``COPY``, then ``GET /api/conversations?status=`` for every filter.

    .venv-handoff/bin/python -m bench.handoff_latency [--messages 2000] [--rate 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import ClientConnection, connect

from bench.handoff_seed import seed_inbox
from bench.handoff_support import (
    ADMIN,
    Service,
    create_agent,
    fresh_database,
    percentile,
    reset_admin_password,
    service_headers,
    service_process,
    serving_connector,
    token,
)

AGENTS = 4
FILTERS = ("pending", "mine", "open", "resolved", "all")
Row = tuple[str, int, float, float, float, float | None]


def _user_event(cid: str, text: str) -> dict[str, Any]:
    """A tracker ``user`` event as Rasa's event broker publishes it."""
    return {
        "sender_id": cid,
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "input_channel": "webchat",
        "message_id": uuid.uuid4().hex,
        "parse_data": {
            "text": text,
            "intent": {"name": "chitchat", "confidence": 0.71},
            "intent_ranking": [
                {"name": "chitchat", "confidence": 0.71},
                {"name": "affirm", "confidence": 0.2},
            ],
            "entities": [],
        },
        "metadata": {},
    }


class LiveWatcher:
    """Reads each agent's WebSocket; resolves futures when the assignee sees a customer text."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, text: str) -> asyncio.Future[float]:
        """A future resolved with the time the assignee's socket received ``text``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future

    async def read(self, socket: ClientConnection, username: str) -> None:
        """Consumes one agent's socket until it closes."""
        async for raw in socket:
            arrived = time.perf_counter()
            event = json.loads(raw)
            if event.get("type") != "message.created":
                continue
            message = event.get("message") or {}
            if message.get("role") != "customer":
                continue
            if (event.get("conversation") or {}).get("assignee") != username:
                continue
            future = self.waiting.pop(str(message.get("text")), None)
            if future is not None and not future.done():
                future.set_result(arrived)


async def _paced(count: int, rate: float, job: Callable[[int], Any]) -> None:
    """Starts ``job(i)`` ``count`` times at ``rate`` per second (open loop) and awaits all."""
    started = time.perf_counter()
    tasks = []
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(job(i)))
    await asyncio.gather(*tasks)


LAGS: list[float] = []


async def _loop_lag() -> None:
    """Records how late this process's event loop wakes up (the bench's own noise)."""
    while True:
        began = time.perf_counter()
        await asyncio.sleep(0.05)
        LAGS.append((time.perf_counter() - began - 0.05) * 1000)


def _summary(name: str, values: list[float], target: float, cpu_ms: float | None = None) -> Row:
    p99 = percentile(values, 99)
    return (name, len(values), statistics.median(values), p99, target, cpu_ms)


async def live(service: Service, connector: Any, *, messages: int, rate: float) -> list[Row]:
    """Benchmarks 1 and 2 with 100 conversations held by ``AGENTS`` agents."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=service.url, timeout=30, limits=limits) as http:
        admin = await token(http, *ADMIN)
        agents = {
            f"agent{n}": await create_agent(
                http, admin, f"agent{n}", skills=["after_sales"], capacity=30
            )
            for n in range(AGENTS)
        }
        conversations = [f"webchat:bench-{n:03d}" for n in range(100)]
        holder: dict[str, str] = {}
        for n, cid in enumerate(conversations):
            body = {
                "conversation_id": cid,
                "channel": "webchat",
                "reason": "explicit_request",
                "intent": "request_human",
                "language": "en",
                "summary": "bench",
            }
            response = await http.post(
                "/api/internal/handoffs", json=body, headers=service_headers()
            )
            response.raise_for_status()
            name = f"agent{n % AGENTS}"
            claim = await http.post(f"/api/conversations/{cid}/assign", headers=agents[name])
            claim.raise_for_status()
            holder[cid] = name
        watcher = LiveWatcher()
        ws_base = service.url.replace("http://", "ws://")
        async with contextlib.AsyncExitStack() as stack:
            readers = []
            for name, headers in agents.items():
                ticket = await http.post("/api/ws/tickets", headers=headers)
                ticket.raise_for_status()
                offered = ["handoff", f"ticket.{ticket.json()['ticket']}"]
                socket = await stack.enter_async_context(
                    connect(f"{ws_base}/api/ws", subprotocols=offered)  # type: ignore[arg-type]
                )
                readers.append(asyncio.create_task(watcher.read(socket, name)))
            await asyncio.sleep(0.5)
            to_view: list[float] = []
            to_send: list[float] = []
            reply_rtt: list[float] = []
            run = uuid.uuid4().hex[:6]
            lost: list[str] = []

            async def customer(i: int) -> None:
                cid = conversations[i % len(conversations)]
                text = f"customer {run} {i} where is my parcel?"
                seen = watcher.expect(text)
                started = time.perf_counter()
                response = await http.post(
                    "/api/internal/events",
                    headers=service_headers(),
                    json={"events": [_user_event(cid, text)]},
                )
                response.raise_for_status()
                try:
                    to_view.append((await asyncio.wait_for(seen, 30) - started) * 1000)
                except TimeoutError:
                    lost.append(text)

            async def reply(i: int) -> None:
                cid = conversations[(i * 7 + 3) % len(conversations)]
                text = f"agent {run} {i}: it leaves the warehouse today"
                sent = connector.expect(text)
                started = time.perf_counter()
                response = await http.post(
                    f"/api/conversations/{cid}/messages",
                    headers=agents[holder[cid]],
                    json={"text": text},
                )
                response.raise_for_status()
                reply_rtt.append((time.perf_counter() - started) * 1000)
                try:
                    to_send.append((await asyncio.wait_for(sent, 30) - started) * 1000)
                except TimeoutError:
                    lost.append(text)

            # Warm-up (connections, caches), not counted.
            await _paced(40, rate, customer)
            await _paced(40, rate, reply)
            for warm in (to_view, to_send, reply_rtt):
                warm.clear()
            cpu = service.cpu_s()
            lag = asyncio.create_task(_loop_lag())
            await asyncio.gather(_paced(messages, rate, customer), _paced(messages, rate, reply))
            cpu_ms = (service.cpu_s() - cpu) * 1000 / (2 * messages)
            for reader in readers:
                reader.cancel()
            lag.cancel()
            if lost:
                print(f"{len(lost)} messages never arrived within 30 s", flush=True)
    return [
        _summary("customer message → agent's WebSocket", to_view, 250, cpu_ms),
        _summary("agent reply → connector outbound", to_send, 250, cpu_ms),
        _summary("(agent reply: the POST's own round trip)", reply_rtt, 0),
    ]


async def inbox(
    service: Service, database_url: str, *, requests: int, limit: int | None
) -> list[Row]:
    """Benchmark 3: seeds to 10,000 conversations / 1,000,000 messages, times every filter.

    ``limit`` is the page size asked for (``None``: the service's default page).
    """
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    timings: dict[str, list[float]] = {name: [] for name in FILTERS}
    reset_admin_password(conninfo)
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
        admin = await token(http, *ADMIN)
        reader = f"inbox-reader-{uuid.uuid4().hex[:6]}"
        me = await create_agent(http, admin, reader, skills=["after_sales"], capacity=30)
        with psycopg.connect(conninfo) as connection:
            have_c = _count(connection, "SELECT count(*) FROM conversations")
            have_m = _count(connection, "SELECT count(*) FROM messages")
            agents = [r[0] for r in connection.execute("SELECT id FROM agents WHERE role='agent'")]
        started = time.perf_counter()
        if have_c < 10_000:
            seeded = seed_inbox(
                conninfo,
                conversations=10_000 - have_c,
                messages=1_000_000 - have_m,
                agent_ids=agents,
            )
            print(
                f"seeded {seeded.conversations} conversations and {seeded.messages} messages "
                f"{seeded.by_status} in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        order = itertools.cycle(FILTERS)
        paging = {} if limit is None else {"limit": limit}
        for name in itertools.islice(order, 10 * len(FILTERS)):  # warm-up
            response = await http.get(
                "/api/conversations", params={"status": name, **paging}, headers=me
            )
            response.raise_for_status()
        cpu = service.cpu_s()
        for name in itertools.islice(order, requests * len(FILTERS)):
            began = time.perf_counter()
            response = await http.get(
                "/api/conversations", params={"status": name, **paging}, headers=me
            )
            timings[name].append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
        cpu_ms = (service.cpu_s() - cpu) * 1000 / (requests * len(FILTERS))
    page = "default page" if limit is None else f"limit={limit}"
    return [
        _summary(f"inbox list `status={name}` ({page})", timings[name], 50, cpu_ms)
        for name in FILTERS
    ]


def _count(connection: psycopg.Connection[Any], sql: str) -> int:
    row = connection.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _print(rows: list[Row]) -> None:
    print("| measure | n | p50 ms | p99 ms | target p99 ms | met? | service CPU ms/request |")
    print("|---|---|---|---|---|---|---|")
    for name, n, p50, p99, target, cpu_ms in rows:
        met = "—" if not target else ("yes" if p99 <= target else "**no**")
        shown = f"{target:.0f}" if target else "—"
        cpu = "—" if cpu_ms is None else f"{cpu_ms:.1f}"
        print(f"| {name} | {n} | {p50:.1f} | {p99:.1f} | {shown} | {met} | {cpu} |")


async def _run(args: argparse.Namespace, database_url: str, work_dir: Path) -> list[Row]:
    rows: list[Row] = []
    async with serving_connector() as (connector, connector_url):
        with service_process(database_url, connector_url, work_dir) as service:
            if args.only in (None, "live"):
                rows += await live(service, connector, messages=args.messages, rate=args.rate)
            if args.only in (None, "inbox"):
                rows += await inbox(service, database_url, requests=args.requests, limit=args.limit)
    return rows


def main() -> None:
    """Prints a markdown table of the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages",
        type=int,
        default=1500,
        help="customer messages and agent replies, each (default 1500)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=5.0,
        help="customer messages per second, and as many agent replies",
    )
    parser.add_argument("--requests", type=int, default=200, help="inbox lists per filter")
    parser.add_argument(
        "--limit", type=int, help="inbox page size asked for (default: the service's default)"
    )
    parser.add_argument("--only", choices=("live", "inbox"))
    parser.add_argument("--database", default="handoff_bench")
    parser.add_argument("--work-dir", type=Path, help="keep the service's log here")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep (and reuse, when it exists) the database, e.g. to time the seeded inbox again",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(args.database, keep=args.keep_database) as url,
    ):
        work_dir = args.work_dir or Path(tmp)
        work_dir.mkdir(parents=True, exist_ok=True)
        rows = asyncio.run(_run(args, url, work_dir))
    _print(rows)
    if LAGS:
        print(
            f"\nbench event loop lag: p50 {statistics.median(LAGS):.1f} ms, "
            f"p99 {percentile(LAGS, 99):.1f} ms, max {max(LAGS):.0f} ms"
        )


if __name__ == "__main__":
    main()
