"""Per-turn latency through the REST channel, and the stack's memory.

Plays the same scripted conversations at 1 and 8 concurrent conversations
against a real stack (Rasa, action server, demo shop) and reports p50/p99
per turn, throughput, and the RSS of each process.

    .venv/bin/python -m bench.turn_latency [--conversations 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx

from bench.stack import benchmark_stack, rss_mib

SCRIPT = (
    "你好",
    "订单20241105001到哪了",
    "一般几天发货",
    "where is my order JD8823412399",
    "谢谢",
)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def _conversation(client: httpx.AsyncClient, url: str, latencies: list[float]) -> None:
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    for text in SCRIPT:
        started = time.perf_counter()
        response = await client.post(url, json={"sender": sender, "message": text})
        response.raise_for_status()
        assert response.json(), f"no reply to {text!r}"
        latencies.append((time.perf_counter() - started) * 1000)


async def measure(rasa_url: str, concurrency: int, conversations: int) -> dict[str, float]:
    """Runs ``conversations`` conversations, ``concurrency`` at a time."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one() -> None:
            async with gate:
                await _conversation(client, url, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(conversations)))
        elapsed = time.perf_counter() - started
    return {
        "turns": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 99),
        "turns_per_s": len(latencies) / elapsed,
    }


def main() -> None:
    """Prints a markdown table of the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    args = parser.parse_args()
    with benchmark_stack() as stack:
        # Warm up: the first parse builds TensorFlow graphs.
        asyncio.run(measure(stack.rasa_url, 1, 2))
        rows = [(c, asyncio.run(measure(stack.rasa_url, c, args.conversations))) for c in (1, 8)]
        memory = {p.name: rss_mib(p.popen.pid) for p in stack.processes if p.popen}
    print("| concurrent conversations | turns | p50 ms | p99 ms | turns/s |")
    print("|---|---|---|---|---|")
    for concurrency, r in rows:
        print(
            f"| {concurrency} | {r['turns']:.0f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} "
            f"| {r['turns_per_s']:.1f} |"
        )
    print()
    print("| process | RSS MiB |")
    print("|---|---|")
    for name, mib in memory.items():
        print(f"| {name} | {mib:.0f} |")


if __name__ == "__main__":
    main()
