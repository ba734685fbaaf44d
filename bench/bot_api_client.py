"""python-telegram-bot's Bot API calls through httpx (its default) and aiohttp (ours).

Both clients send ``sendMessage`` to the stand-in Bot API
(``tests/support/telegram_api.py``, uvicorn in a thread of this process), in
alternating rounds, and two things are measured per client:

- **CPU per call**: the calling thread's CPU time per ``sendMessage`` on an
  idle event loop (the stand-in's own work is in its thread, not counted);
- **to the wire on a busy loop**: the time from the call until the stand-in
  has the request, while other tasks keep the loop busy, each burning
  ``--busy-ms`` of CPU between yields, as other conversations' NLU and
  policies do inside Rasa. Every time a client yields before writing its
  request it waits for all of them, so this shows how often it yields.

    .venv/bin/python -m bench.bot_api_client [--calls 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from connectors.telegram.http import AiohttpRequest
from tests.support.telegram_api import ApiCall, running_telegram_api

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BUSY_TASKS = 8
WARM_UP_CALLS = 20


@dataclass
class Measured:
    """One client's numbers over all rounds."""

    cpu_ms: list[float] = field(default_factory=list)
    to_wire_ms: list[float] = field(default_factory=list)
    call_ms: list[float] = field(default_factory=list)


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def _busy(stop: asyncio.Event, busy_s: float) -> None:
    while not stop.is_set():
        _burn(busy_s)
        await asyncio.sleep(0)


async def _round(
    bot: Bot, arrivals: dict[str, float], into: Measured, calls: int, busy_s: float
) -> None:
    texts = (f"bench {id(into)} {n}" for n in itertools.count())
    for _ in range(WARM_UP_CALLS):
        await bot.send_message(chat_id=42, text=next(texts))
    started = time.thread_time()
    for _ in range(calls):
        await bot.send_message(chat_id=42, text=next(texts))
    into.cpu_ms.append((time.thread_time() - started) * 1000 / calls)
    stop = asyncio.Event()
    burners = [asyncio.create_task(_busy(stop, busy_s)) for _ in range(BUSY_TASKS)]
    try:
        for _ in range(calls):
            text = next(texts)
            sent = time.monotonic()
            await bot.send_message(chat_id=42, text=text)
            into.call_ms.append((time.monotonic() - sent) * 1000)
            into.to_wire_ms.append((arrivals[text] - sent) * 1000)
    finally:
        stop.set()
        await asyncio.gather(*burners)


async def measure(
    base_url: str, arrivals: dict[str, float], calls: int, rounds: int, busy_s: float
) -> dict[str, Measured]:
    """Alternating rounds of both clients; the numbers per client."""
    clients: dict[str, Callable[[], BaseRequest]] = {
        "httpx (python-telegram-bot's default)": lambda: HTTPXRequest(connection_pool_size=256),
        "aiohttp (connectors.telegram.http)": AiohttpRequest,
    }
    results = {name: Measured() for name in clients}
    for round_no in range(rounds):
        order = list(clients.items())
        for name, make in order if round_no % 2 == 0 else reversed(order):
            async with Bot(TOKEN, base_url=f"{base_url}/bot", request=make()) as bot:
                await _round(bot, arrivals, results[name], calls, busy_s)
            print(f"  round {round_no + 1}: {name} done", file=sys.stderr, flush=True)
    return results


def table(results: dict[str, Measured], busy_ms: float) -> str:
    """The numbers as a markdown table."""
    lines = [
        f"| client | CPU ms per call (idle loop) | to the wire p50 ms | p90 ms "
        f"| whole call p50 ms ({BUSY_TASKS} tasks × {busy_ms:g} ms between yields) |",
        "|---|---|---|---|---|",
    ]
    for name, m in results.items():
        wire = sorted(m.to_wire_ms)
        lines.append(
            f"| {name} | {statistics.median(m.cpu_ms):.2f} "
            f"| {statistics.median(wire):.0f} | {wire[int(len(wire) * 0.9)]:.0f} "
            f"| {statistics.median(m.call_ms):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Starts the stand-in, measures both clients, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per client and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy-ms", type=float, default=2.0, help="CPU per busy task turn")
    args = parser.parse_args()
    arrivals: dict[str, float] = {}

    def heard(call: ApiCall) -> None:
        if call.method == "sendMessage":
            arrivals[str(call.params["text"])] = call.at

    with running_telegram_api(TOKEN) as api:
        api.listen(heard)
        results = asyncio.run(
            measure(api.base_url, arrivals, args.calls, args.rounds, args.busy_ms / 1000)
        )
    print(table(results, args.busy_ms))


if __name__ == "__main__":
    main()
