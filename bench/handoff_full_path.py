"""Customer → Rasa (REST) → event broker → handoff service → agent's WebSocket.

The whole path of a customer message while an agent holds the conversation,
on the real stack of the tests (``tests/support/processes.py``: demo shop,
action server, Rasa serving the current model, and the handoff service on
its SQLite default). Conversations are handed off by asking the bot for a
human through the REST channel and claimed by one agent through the API;
then customer messages are posted to ``/webhooks/rest/webhook`` at a fixed
rate (open loop) and timed until the agent's ``/api/ws`` pushes
``message.created`` with that text. Rasa answers nothing while the
conversation is paused; the REST round trip is reported as well.

    .venv/bin/python -m bench.handoff_full_path [--conversations 20] [--messages 200] [--rate 2]

Runs in the Rasa environment (``.venv``); the handoff service runs in its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

from bot.training.model_cache import ensure_model
from tests.support.handoff_client import HandoffClient
from tests.support.processes import Stack, running_stack

HANDOFF_TEXT = "转人工"
TARGET_MS = 250.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hand_off(stack: Stack, agent: HandoffClient, count: int) -> list[str]:
    """``count`` web chat conversations ask for a human; the agent claims each."""
    senders = [f"webchat:full-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with httpx.Client(timeout=120) as http:
        for sender in senders:
            http.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": HANDOFF_TEXT},
            ).raise_for_status()
    for sender in senders:
        agent.wait_for(sender, lambda c: c["status"] == "pending", timeout_s=120, what=sender)
        agent.post(sender, "assign").raise_for_status()
    return senders


async def _measure(
    stack: Stack, agent: HandoffClient, senders: list[str], *, messages: int, rate: float
) -> tuple[list[float], list[float], int]:
    assert stack.handoff is not None
    ticket = agent.http.post("/api/ws/tickets")
    ticket.raise_for_status()
    ws_url = stack.handoff.url.replace("http://", "ws://") + "/api/ws"
    subprotocols = ["handoff", f"ticket.{ticket.json()['ticket']}"]
    waiting: dict[str, asyncio.Future[float]] = {}
    to_view: list[float] = []
    rest_rtt: list[float] = []
    lost = 0

    async def read(socket: Any) -> None:
        async for raw in socket:
            arrived = time.perf_counter()
            event = json.loads(raw)
            message = event.get("message") or {}
            if event.get("type") == "message.created" and message.get("role") == "customer":
                future = waiting.pop(str(message.get("text")), None)
                if future is not None and not future.done():
                    future.set_result(arrived)

    socket_cm = websockets.connect(ws_url, subprotocols=subprotocols)
    async with socket_cm as socket, httpx.AsyncClient(timeout=60) as http:
        reader = asyncio.create_task(read(socket))
        await asyncio.sleep(0.5)
        run = uuid.uuid4().hex[:6]

        async def customer(i: int) -> None:
            nonlocal lost
            text = f"还在吗 {run} {i}"
            seen = asyncio.get_running_loop().create_future()
            waiting[text] = seen
            started = time.perf_counter()
            answer = await http.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": senders[i % len(senders)], "message": text},
            )
            answer.raise_for_status()
            assert answer.json() == [], f"the bot answered a held conversation: {answer.text}"
            rest_rtt.append((time.perf_counter() - started) * 1000)
            try:
                to_view.append((await asyncio.wait_for(seen, 60) - started) * 1000)
            except asyncio.TimeoutError:
                lost += 1

        began = time.perf_counter()
        tasks = []
        for i in range(messages):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(customer(i)))
        await asyncio.gather(*tasks)
        reader.cancel()
    return to_view, rest_rtt, lost


def main() -> None:
    """Prints a markdown table of the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0, help="customer messages per second")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured messages first")
    args = parser.parse_args()
    ensure_model()
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp), handoff=True) as stack:
        assert stack.handoff is not None
        admin = HandoffClient.admin(stack.handoff)
        agent = HandoffClient(stack.handoff.url, *admin.create_agent(prefix="full"))
        senders = _hand_off(stack, agent, args.conversations)
        asyncio.run(_measure(stack, agent, senders, messages=args.warmup, rate=args.rate))
        pids = {p.name: p.popen.pid for p in stack.processes if p.popen}
        before = {name: cpu_s(pid) for name, pid in pids.items()}
        load_before = os.getloadavg()
        to_view, rest_rtt, lost = asyncio.run(
            _measure(stack, agent, senders, messages=args.messages, rate=args.rate)
        )
        load_after = os.getloadavg()
        cpu = {
            name: (cpu_s(pid) - before[name]) * 1000 / args.messages for name, pid in pids.items()
        }
    print("| measure | n | p50 ms | p99 ms | target p99 ms | met? |")
    print("|---|---|---|---|---|---|")
    p99 = percentile(to_view, 99)
    met = "yes" if p99 <= TARGET_MS and not lost else "**no**"
    print(
        f"| customer (REST) → Rasa → event broker → service → agent's WebSocket | {len(to_view)} "
        f"| {statistics.median(to_view):.1f} | {p99:.1f} | {TARGET_MS:.0f} | {met} |"
    )
    print(
        f"| (the REST webhook's own round trip) | {len(rest_rtt)} "
        f"| {statistics.median(rest_rtt):.1f} | {percentile(rest_rtt, 99):.1f} | — | — |"
    )
    if lost:
        print(f"\n{lost} messages never reached the WebSocket within 60 s")
    print("\nCPU ms per customer message: " + ", ".join(f"{n} {v:.1f}" for n, v in cpu.items()))
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")


if __name__ == "__main__":
    main()
