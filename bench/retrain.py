"""Retraining time, and failed requests across the model swap under steady load.

Starts a throw-away stack (demo shop, action server, Rasa on the shipped
model) and sends a steady stream of customer messages to the REST channel
(``--workers`` customers at once, each writing again ``--pause`` seconds
after the previous answer). Meanwhile, on a copy of the assistant's
files (``tests/support/assistant.py``), it runs ``bot retrain``'s code path:

1. ``cold``: the trainers' labels (``tests/fixtures/misunderstood_labels.json``)
   with an empty Rasa training cache (``RASA_CACHE_DIRECTORY``) and no
   sentence vector cached (``EMBEDDINGS_CACHE``): a full
   training of the shipped data plus the labels, scoring of both models on
   the held-out split, promotion (``PUT /model``, swap 1);
2. ``bot rollback``'s code path (swap 2);
3. ``warm``: one label more, with the cache of step 1: what a trainer's next
   retrain costs when only NLU data changed (Rasa reuses the dialogue
   policies' training, the classifier encodes only the new texts), promoted
   (swap 3).

Every request is counted: an exception, a non-200 answer or an empty reply
is a failure. Printed: a markdown table of the stages and one of the load.
``--workers 0`` sends no load: the retraining times of an otherwise idle
machine (the swaps are then only timed).

    .venv/bin/python -m bench.retrain [--workers 2] [--pause 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stack import benchmark_stack
from bench.turn_latency import percentile
from bot.settings import PROJECT_ROOT
from bot.training.labels import Label, read_labels_file
from bot.training.promotion import roll_back
from bot.training.rasa_server import LOAD_TIMEOUT_S, RasaServer
from bot.training.registry import Registry
from bot.training.retrain import retrain
from tests.support.assistant import copy_assistant

LABELS = PROJECT_ROOT / "tests" / "fixtures" / "misunderstood_labels.json"
MESSAGES = (
    "你好",
    "订单20241105001到哪了",
    "一般几天发货",
    "where is my order 20241105001",
    "谢谢",
)


@dataclass
class Sent:
    """One request of the load: when it started, how long it took, whether it failed."""

    started: float
    seconds: float
    failed: str | None


@dataclass
class Load:
    """A steady stream of messages in a background thread.

    Closed loop: each worker sends a message, waits for the answer, pauses,
    and sends the next, so the load follows what the server can take on a
    busy machine instead of queueing without end.
    """

    url: str
    workers: int
    pause_s: float
    sent: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    async def _one(self, client: httpx.AsyncClient, number: int) -> None:
        sender = f"bench-retrain-{number % 50}-{uuid.uuid4().hex[:6]}"
        text = MESSAGES[number % len(MESSAGES)]
        started = time.monotonic()
        failed = None
        try:
            response = await client.post(self.url, json={"sender": sender, "message": text})
            if response.status_code != 200:
                failed = f"HTTP {response.status_code}"
            elif not response.json():
                failed = "no reply"
        except (httpx.HTTPError, ValueError) as error:
            failed = f"{type(error).__name__}: {error}"
        self.sent.append(Sent(started, time.monotonic() - started, failed))

    async def _worker(self, client: httpx.AsyncClient, first: int) -> None:
        number = first
        while not self._stop.is_set():
            await self._one(client, number)
            number += self.workers
            await asyncio.sleep(self.pause_s)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            await asyncio.gather(*(self._worker(client, n) for n in range(self.workers)))


@dataclass(frozen=True)
class TimedServer(RasaServer):
    """The Rasa server, noting when each ``PUT /model`` started and ended."""

    swaps: list[tuple[float, float]] = field(default_factory=list)

    def load_model(self, model: Path, *, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """``PUT /model``, timed."""
        started = time.monotonic()
        super().load_model(model, timeout_s=timeout_s)
        self.swaps.append((started, time.monotonic()))


def _labels(extra: int) -> list[Label]:
    labels = read_labels_file(LABELS)
    if extra:
        labels.append(
            Label("my refund still hasn't come through after two weeks", "check_refund_progress")
        )
    return labels


def main() -> None:
    """Runs the stages under load and prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workers", type=int, default=2, help="customers writing at once (0: no load)"
    )
    parser.add_argument(
        "--pause", type=float, default=0.5, help="seconds between a reply and the next"
    )
    args = parser.parse_args()
    stages: list[tuple[str, float, float, float]] = []  # name, train s, total s, swap s
    with tempfile.TemporaryDirectory() as tmp, benchmark_stack() as stack:
        root = Path(tmp) / "assistant"
        root.mkdir()
        copy_assistant(root)
        os.environ["BOT_MODEL_CACHE"] = str(Path(tmp) / "model-cache")
        os.environ["RASA_CACHE_DIRECTORY"] = str(Path(tmp) / "rasa-cache")
        # Cold means no sentence vector cached either (bot/components/vector_cache.py).
        os.environ["EMBEDDINGS_CACHE"] = str(Path(tmp) / "vectors")
        registry = Registry(f"sqlite:///{Path(tmp) / 'registry.db'}")
        server = TimedServer(stack.rasa_url)
        load = Load(f"{stack.rasa_url}/webhooks/rest/webhook", args.workers, args.pause)
        said: list[str] = []
        if args.workers:
            load.start()
            time.sleep(10)  # a steady state before the first stage
        try:
            for name, extra in (("cold", 0), ("rollback", 0), ("warm", 1)):
                started = time.monotonic()
                train_s = 0.0
                if name == "rollback":
                    roll_back(
                        server=server,
                        registry=registry,
                        models_dir=root / "models",
                        annotations_file=root / "data" / "nlu" / "annotations.yml",
                    )
                else:
                    labels = _labels(extra)
                    outcome = retrain(
                        labels, root=root, server=server, registry=registry, say=said.append
                    )
                    assert outcome.promoted is not None, said[-3:]
                    train_s = outcome.train_seconds
                swap_start, swap_end = server.swaps[-1]
                stages.append((name, train_s, time.monotonic() - started, swap_end - swap_start))
                print(f"{name}: {stages[-1]}", flush=True)
            if args.workers:
                time.sleep(10)
        finally:
            load.stop()
            registry.close()
    print("| stage | training s | whole stage s | PUT /model s |")
    print("|---|---|---|---|")
    for name, train_s, total_s, swap_s in stages:
        print(f"| {name} | {train_s:.0f} | {total_s:.0f} | {swap_s:.1f} |")
    print()
    if load.sent:
        _print_load(load, server.swaps)
    else:
        print("no load sent (--workers 0)")


def _print_load(load: Load, swaps: list[tuple[float, float]]) -> None:
    failures = [s for s in load.sent if s.failed]
    latencies = [s.seconds * 1000 for s in load.sent if not s.failed]
    near_all = [s for s in load.sent if any(a - 5 <= s.started <= b + 5 for a, b in swaps)]
    near = [s.seconds * 1000 for s in near_all if not s.failed]
    span = max(s.started + s.seconds for s in load.sent) - min(s.started for s in load.sent)
    print(
        "| requests | failed | p50 ms | p99 ms | requests/s"
        " | requests within 5 s of a swap | failed among them | their p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    near_p99 = percentile(near, 99) if near else 0.0
    print(
        f"| {len(load.sent)} | {len(failures)} | {statistics.median(latencies):.0f}"
        f" | {percentile(latencies, 99):.0f} | {len(load.sent) / span:.1f} | {len(near_all)}"
        f" | {len(near_all) - len(near)} | {near_p99:.0f} |"
    )
    for failure in failures[:10]:
        print(json.dumps(failure.__dict__))


if __name__ == "__main__":
    main()
