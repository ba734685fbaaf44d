"""Bot-reply latency and throughput through each connector, against Rasa's REST channel.

One stack (demo shop, action server, Rasa on the current model) with REST,
Telegram, WeChat and web chat all switched on, Telegram and WeChat pointed
at local stand-ins of their APIs. The same five-turn conversation
(greeting, order status with a demo-shop order number, an FAQ, an English
order question, an out-of-scope question) is played through every channel,
each conversation under a fresh id, 1 and 16 at a time. Channels take turns
in rounds, in a rotating order, so the machine's noise falls on all of them;
a warm-up round comes first. See :mod:`bench.channels` for what a turn's
latency is on each channel.

The customer pauses before each next message (``--think``, 0.25 s by
default), as people read a reply before they type: a connector hands the
customer each reply as soon as Rasa produces it, while Rasa still finishes
the turn (predicts that it should listen, saves the tracker), so with no
pause the next message would wait for that in the conversation's lock, a
wait no real customer meets. ``--think 0`` plays without the pause. Each
turn is also split into phases by the timestamps on Rasa's events
(:mod:`bench.turn_phases`).

Beside the latencies, each channel's turns are charged the CPU time the Rasa
server process spent on them (user + system, from ``/proc/<pid>/stat``,
counted from an idle Rasa before each batch until Rasa is idle again after
it), and their mean latency: a connector that costs Rasa no more CPU per turn
than REST, yet answers later, is waiting in Rasa's queue, not working.

    .venv/bin/python -m bench.connector_latency [--rounds 24 8] [--think 0.25]
        [--channels Telegram WeChat] [--handoff]

With ``--handoff`` the handoff service runs too, as deployed, and Rasa's
event broker delivers every event to it; without it the broker's target is
absent, and Rasa buffers, retries and finally drops the events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.channels import (
    Channel,
    Conversation,
    RestChannel,
    TelegramChannel,
    WebChatChannel,
    WeChatChannel,
    replies_per_turn,
)
from bench.stack import benchmark_stack
from bench.turn_latency import percentile
from bench.turn_phases import Phases, TimedTurn, conversation_phases, medians
from tests.support.telegram_api import TelegramApi, running_telegram_api
from tests.support.wechat_api import WeChatApi, running_wechat_api

SCRIPT = (
    "你好",
    "订单20241105001到哪了",
    "一般几天发货",
    "where is my order JD8823412399",
    "明天天气怎么样",
)
CONCURRENCY = (1, 16)
CHANNEL_NAMES = ("REST", "Telegram", "WeChat", "web chat")
# Rounds per concurrency: 24 x 2 conversations x 5 turns = 240 turns per
# channel at 1 (p99 is then the third slowest, not the second); 8 x 16 x 5 =
# 640 at 16 (a round at 16 is a handful of queues, so few rounds would be
# noisy). About 10 minutes in all on a quiet machine.
ROUNDS = (24, 8)
# The customer's pause between a reply and their next message.
THINK_S = 0.25
# Replies still on their way after the last turn would mean a turn ended early.
LATE_REPLY_GRACE_S = 2.0
# Rasa counts as idle once its CPU time has not grown for this long (the
# kernel counts in ticks of 10 ms); a batch's CPU is counted between idles.
IDLE_QUIET_S = 0.15
IDLE_WAIT_MAX_S = 5.0

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = "bench-secret-token-0123456789"
WECHAT_TOKEN = "shopassistantbench"
WECHAT_APP_ID = "wx00bench000000000"
WECHAT_APP_SECRET = "bench0bench0bench0bench0bench000"


@dataclass
class Measured:
    """One channel at one concurrency: every turn's latency and the time spent."""

    latencies_s: list[float] = field(default_factory=list)
    timed: dict[str, list[TimedTurn]] = field(default_factory=dict)
    phases: list[Phases] = field(default_factory=list)
    busy_s: float = 0.0
    cpu_s: float = 0.0
    cpu_turns: int = 0
    unanswered: int = 0
    by_turn: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    def summary(self) -> dict[str, float]:
        """n, p50, p99 and mean in ms, turns per second of the channel's own batches,
        and the Rasa server's CPU ms per turn and share of one core during them."""
        ms = [s * 1000 for s in self.latencies_s]
        phase = medians(self.phases) if self.phases else Phases(*[float("nan")] * 3)
        return {
            "n": len(ms),
            "p50": statistics.median(ms),
            "p99": percentile(ms, 99),
            "mean": statistics.fmean(ms),
            "tps": len(ms) / self.busy_s,
            "cpu_ms": self.cpu_s * 1000 / max(self.cpu_turns, 1),
            "cpu_share": self.cpu_s / self.busy_s,
            "unanswered": self.unanswered,
            "inbound": phase.inbound_ms,
            "answer": phase.answer_ms,
            "delivery": phase.delivery_ms,
            **{f"turn{i}": statistics.median(t) * 1000 for i, t in self.by_turn.items()},
        }


class RasaCpu:
    """The CPU time of the Rasa server process, all its threads, from /proc."""

    def __init__(self, pid: int) -> None:
        self._stat = Path(f"/proc/{pid}/stat")
        self._tick_s = 1 / os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        """utime + stime so far, in seconds."""
        text = self._stat.read_text()
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = text[text.rindex(")") + 2 :].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) * self._tick_s

    async def idle(self) -> float:
        """Waits until Rasa's CPU time stops growing (or a few seconds); returns it."""
        deadline = time.monotonic() + IDLE_WAIT_MAX_S
        last = self.seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(IDLE_QUIET_S)
            now = self.seconds()
            if now == last:
                return now
            last = now
        print("  Rasa not idle after a batch; its CPU is counted anyway", file=sys.stderr)
        return last


async def _batch(
    channel: Channel,
    expected: Sequence[int],
    conversations: int,
    concurrency: int,
    into: Measured,
    cpu: RasaCpu | None = None,
    think_s: float = THINK_S,
) -> list[Conversation]:
    """Plays SCRIPT in ``conversations`` new conversations, ``concurrency`` at a time,
    each customer pausing ``think_s`` between a reply and their next message."""
    opened = list(await asyncio.gather(*(channel.open() for _ in range(conversations))))
    cpu_before = await cpu.idle() if cpu else 0.0
    gate = asyncio.Semaphore(concurrency)

    async def play(conversation: Conversation) -> None:
        async with gate:
            timed = into.timed.setdefault(conversation.conversation_id, [])
            for turn, (text, replies) in enumerate(zip(SCRIPT, expected, strict=True)):
                if turn:
                    await asyncio.sleep(think_s)
                sent_at = time.time()
                try:
                    latency_s = await conversation.say(text, replies)
                except TimeoutError as error:
                    # Counted, not timed; the rest of this conversation is skipped,
                    # since its later replies could not be told apart.
                    print(f"  no answer: {channel.name} {error}", file=sys.stderr)
                    into.unanswered += 1
                    return
                into.latencies_s.append(latency_s)
                into.by_turn[turn].append(latency_s)
                timed.append(TimedTurn(sent_at, sent_at + latency_s))

    first, unanswered_before = len(into.latencies_s), into.unanswered
    started = time.monotonic()
    await asyncio.gather(*(play(c) for c in opened))
    elapsed = time.monotonic() - started
    into.busy_s += elapsed
    cpu_s = (await cpu.idle()) - cpu_before if cpu else 0.0
    into.cpu_s += cpu_s
    # Unanswered turns were sent, and Rasa worked on them too.
    into.cpu_turns += len(into.latencies_s) - first + into.unanswered - unanswered_before
    await asyncio.gather(*(c.close() for c in opened))
    batch = into.latencies_s[first:] or [float("nan")]
    print(
        f"  {channel.name:<9} x{concurrency:<2} {len(batch)} turns in {elapsed:5.1f} s,"
        f" median {statistics.median(batch) * 1000:5.0f} ms, max {max(batch) * 1000:5.0f} ms,"
        f" Rasa CPU {cpu_s * 1000 / max(len(batch), 1):4.0f} ms/turn",
        file=sys.stderr,
        flush=True,
    )
    return opened


def _rotated(channels: Sequence[Channel], by: int) -> list[Channel]:
    by %= len(channels)
    return [*channels[by:], *channels[:by]]


async def measure(
    rasa_url: str,
    telegram: TelegramApi,
    wechat: WeChatApi,
    rounds: Sequence[int],
    rasa_pid: int,
    only: Sequence[str] = (),
    think_s: float = THINK_S,
) -> dict[tuple[str, int], dict[str, float]]:
    """Warms up, then plays the rounds; returns the summary per (channel, concurrency).

    ``only`` names the channels to measure (all when empty); REST, the
    baseline, is always measured. ``think_s`` is the customer's pause
    between a reply and their next message.
    """
    cpu = RasaCpu(rasa_pid)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
        channels: list[Channel] = [
            RestChannel(http, rasa_url),
            TelegramChannel(http, rasa_url, secret=TELEGRAM_SECRET, api=telegram),
            WeChatChannel(http, rasa_url, token=WECHAT_TOKEN, api=wechat),
            WebChatChannel(rasa_url),
        ]
        if only:
            channels = [c for c in channels if c.name == "REST" or c.name in only]
        expected = await replies_per_turn(http, rasa_url, SCRIPT)
        print(f"replies per turn (REST): {expected}", file=sys.stderr)
        # Warm-up (TensorFlow graphs, the WeChat access token, connection pools):
        # each channel alone, then all four at once, 16 conversations in all.
        for channel in channels:
            await _batch(channel, expected, 1, 1, Measured(), think_s=think_s)
        await asyncio.gather(
            *(_batch(c, expected, 4, 4, Measured(), think_s=think_s) for c in channels)
        )
        results: dict[tuple[str, int], Measured] = defaultdict(Measured)
        played: list[tuple[Channel, Conversation]] = []
        for concurrency, count in zip(CONCURRENCY, rounds, strict=True):
            for round_no in range(count):
                for channel in _rotated(channels, round_no):
                    conversations = max(2, concurrency)
                    into = results[channel.name, concurrency]
                    done = await _batch(
                        channel, expected, conversations, concurrency, into, cpu, think_s
                    )
                    played += [(channel, c) for c in done]
                print(f"concurrency {concurrency}: round {round_no + 1}/{count}", file=sys.stderr)
        await asyncio.sleep(LATE_REPLY_GRACE_S)
        wrong = _wrong_reply_counts(played, sum(expected))
        for measured in results.values():
            measured.phases = await _phases(http, rasa_url, measured.timed)
    if wrong:
        print(f"WARNING: not {sum(expected)} replies in: {wrong}", file=sys.stderr)
    return {key: measured.summary() for key, measured in results.items()}


async def _phases(
    http: httpx.AsyncClient, rasa_url: str, timed: dict[str, list[TimedTurn]]
) -> list[Phases]:
    """Every fully answered conversation's turns, split into phases by its tracker."""
    gate = asyncio.Semaphore(8)

    async def split(conversation_id: str, turns: list[TimedTurn]) -> list[Phases]:
        async with gate:
            return await conversation_phases(http, rasa_url, conversation_id, turns)

    complete = [(c, turns) for c, turns in timed.items() if len(turns) == len(SCRIPT)]
    split_up = await asyncio.gather(*(split(c, turns) for c, turns in complete))
    return [phases for conversation in split_up for phases in conversation]


def _wrong_reply_counts(played: list[tuple[Channel, Conversation]], expected: int) -> list[str]:
    """Conversations that got more or fewer replies than REST gave the script.

    More would mean a turn was counted as done before its last reply.
    """
    return [
        f"{channel.name} {conversation.recipient}: {conversation.received()}"
        for channel, conversation in played
        if conversation.received() != expected
    ]


def table(results: dict[tuple[str, int], dict[str, float]]) -> str:
    """The results as a markdown table, each connector's ratio to REST beside it."""
    lines = [
        "| channel | concurrent | turns | unanswered | p50 ms | p99 ms | turns/s "
        "| p50 / REST | p99 / REST | mean ms | mean / REST "
        "| Rasa CPU ms/turn | CPU / REST | Rasa busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, concurrency), r in sorted(results.items(), key=lambda kv: kv[0][1]):
        rest = results["REST", concurrency]
        lines.append(
            f"| {name} | {concurrency} | {r['n']:.0f} | {r['unanswered']:.0f} "
            f"| {r['p50']:.0f} | {r['p99']:.0f} "
            f"| {r['tps']:.2f} | {r['p50'] / rest['p50']:.2f} | {r['p99'] / rest['p99']:.2f} "
            f"| {r['mean']:.0f} | {r['mean'] / rest['mean']:.2f} "
            f"| {r['cpu_ms']:.1f} | {r['cpu_ms'] / rest['cpu_ms']:.2f} "
            f"| {r['cpu_share']:.0%} |"
        )
    lines += [
        "",
        "Rasa CPU ms/turn: user + system time of the Rasa server process over the",
        "channel's batches, per turn; Rasa busy: that time over the batches' wall time",
        "(100% = one core).",
    ]
    return "\n".join(lines)


def phase_table(results: dict[tuple[str, int], dict[str, float]]) -> str:
    """Median ms of each phase of a turn (see :mod:`bench.turn_phases`), per channel."""
    lines = [
        "| channel | concurrent | inbound (to Rasa's user event) | answer (to the last bot event) "
        "| delivery (to the customer) |",
        "|---|---|---|---|---|",
    ]
    for (name, concurrency), r in sorted(results.items(), key=lambda kv: kv[0][1]):
        lines.append(
            f"| {name} | {concurrency} | {r['inbound']:.1f} | {r['answer']:.1f} "
            f"| {r['delivery']:.1f} |"
        )
    return "\n".join(lines)


def turn_table(results: dict[tuple[str, int], dict[str, float]]) -> str:
    """Median ms of each turn of the script, per channel and concurrency."""
    lines = [
        "| channel | concurrent | " + " | ".join(SCRIPT) + " |",
        "|---|---|" + "---|" * len(SCRIPT),
    ]
    for (name, concurrency), r in sorted(results.items(), key=lambda kv: kv[0][1]):
        turns = " | ".join(f"{r.get(f'turn{i}', float('nan')):.0f}" for i in range(len(SCRIPT)))
        lines.append(f"| {name} | {concurrency} | {turns} |")
    return "\n".join(lines)


def _print_problems(var_dir: Path) -> None:
    """The warnings and errors the stack logged, counted, for reading a bad run."""
    for log in sorted(var_dir.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        problems = Counter(line[:160] for line in lines if " ERROR " in line or " WARNING " in line)
        for line, count in problems.most_common(8):
            print(f"{log.name}: {count} x {line}", file=sys.stderr)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Starts the stand-ins and the stack, measures, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        nargs=len(CONCURRENCY),
        default=ROUNDS,
        metavar="N",
        help=f"rounds at concurrency {' and '.join(map(str, CONCURRENCY))}",
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        default=(),
        choices=CHANNEL_NAMES,
        metavar="NAME",
        help='measure only these beside REST (Telegram, WeChat, "web chat")',
    )
    parser.add_argument(
        "--think",
        type=float,
        default=THINK_S,
        metavar="SECONDS",
        help=f"the customer's pause before each next message (default {THINK_S})",
    )
    parser.add_argument(
        "--handoff",
        action="store_true",
        help="run the handoff service too, as deployed (it receives Rasa's events)",
    )
    args = parser.parse_args()
    with (
        running_telegram_api(TELEGRAM_TOKEN) as telegram,
        running_wechat_api(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as wechat,
        benchmark_stack(
            handoff=args.handoff,
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            WECHAT_TOKEN=WECHAT_TOKEN,
            WECHAT_APP_ID=WECHAT_APP_ID,
            WECHAT_APP_SECRET=WECHAT_APP_SECRET,
            WECHAT_API_BASE_URL=wechat.url,
        ) as stack,
    ):
        [rasa] = [p for p in stack.processes if p.name == "rasa" and p.popen is not None]
        assert rasa.popen is not None
        started = time.monotonic()
        print(f"load average at start: {_load()}", file=sys.stderr)
        try:
            pid = rasa.popen.pid
            results = asyncio.run(
                measure(
                    stack.rasa_url, telegram, wechat, args.rounds, pid, args.channels, args.think
                )
            )
        finally:
            print(f"measured in {time.monotonic() - started:.0f} s", file=sys.stderr)
            print(f"load average at end: {_load()}", file=sys.stderr)
            _print_problems(stack.var_dir)
    print(table(results))
    print()
    print("Median ms per turn of the script:")
    print()
    print(turn_table(results))
    print()
    print("Median ms of each phase of a turn (bench.turn_phases):")
    print()
    print(phase_table(results))


if __name__ == "__main__":
    main()
