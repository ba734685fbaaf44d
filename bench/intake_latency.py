"""Per-turn latency of the durable intake against the code before it, side by side in one run.

Two Rasa servers on the same model: one runs this checkout (the durable
intake), the other commit ``--baseline`` (default bdbb3c5: the message id
claimed in SQLite, the message processed in an in-memory background task),
extracted with ``git archive`` into a temporary folder. They share one demo
shop and one action server; each has its own Telegram and WeChat stand-ins
and its own var folder (SQLite tracker store and connectors' database: the
embedded default). Each round plays, on each server in turn (alternating
which goes first), one conversation per channel (Telegram, WeChat, web chat)
of the five turns of :mod:`bench.connector_latency`, one turn at a time with
the customer's pause (``--think``). A turn's latency is from the message
sent to its reply at the stand-in (web chat: at the socket.io client), as in
:mod:`bench.channels`. Only one server works at a time.

    .venv/bin/python -m bench.intake_latency [--rounds 8] [--think 0.25] [--baseline bdbb3c5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.channels import Channel, TelegramChannel, WebChatChannel, WeChatChannel
from bench.connector_latency import (
    SCRIPT,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    WECHAT_APP_ID,
    WECHAT_APP_SECRET,
    WECHAT_TOKEN,
)
from bench.stack import benchmark_stack
from bench.turn_latency import percentile
from bot.training.model_cache import current_model_path
from tests.support.processes import base_env, free_port, wait_until
from tests.support.telegram_api import TelegramApi, running_telegram_api
from tests.support.wechat_api import WeChatApi, running_wechat_api

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "bdbb3c5"
ROUNDS = 8
THINK_S = 0.25
START_TIMEOUT_S = 300
VARIANTS = ("before", "durable")


def _platform_settings(telegram: TelegramApi, wechat: WeChatApi) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_APP_ID": WECHAT_APP_ID,
        "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
        "WECHAT_API_BASE_URL": wechat.url,
    }


def _extract(revision: str, folder: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder)
    (folder / "models").mkdir(exist_ok=True)
    (folder / "models" / "current.tar.gz").symlink_to(current_model_path().resolve())


@contextlib.contextmanager
def baseline_rasa(
    revision: str, folder: Path, *, shop_url: str, actions_url: str, settings: dict[str, str]
) -> Iterator[str]:
    """Rasa from ``revision``'s code, on the given shop and action server; yields its URL."""
    code = folder / "code"
    code.mkdir()
    _extract(revision, code)
    var_dir = folder / "var"
    var_dir.mkdir()
    port = free_port()
    env = base_env(
        var_dir,
        SHOP_API_URL=shop_url,
        ACTIONS_PORT=actions_url.rsplit(":", 1)[1],
        RASA_PORT=str(port),
        **settings,
    )
    log = (folder / "rasa.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "rasa"],
        cwd=code,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the baseline Rasa exited; see {folder / 'rasa.log'}")
            return httpx.get(f"{url}/status", timeout=2).status_code == 200

        wait_until(ready, timeout_s=START_TIMEOUT_S, what=f"Rasa at {revision}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _play(channel: Channel, think_s: float) -> list[float]:
    conversation = await channel.open()
    latencies = []
    try:
        for text in SCRIPT:
            latencies.append(await conversation.say(text, 1))
            await asyncio.sleep(think_s)
    finally:
        await conversation.close()
    return latencies


async def measure(
    servers: dict[str, tuple[str, TelegramApi, WeChatApi]], rounds: int, think_s: float
) -> dict[tuple[str, str], list[float]]:
    """Latencies in seconds per (variant, channel name)."""
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    async with httpx.AsyncClient(timeout=60) as http:
        channels = {
            variant: [
                TelegramChannel(http, url, secret=TELEGRAM_SECRET, api=telegram),
                WeChatChannel(http, url, token=WECHAT_TOKEN, api=wechat),
                WebChatChannel(url),
            ]
            for variant, (url, telegram, wechat) in servers.items()
        }
        # A warm-up round, not counted.
        for variant in VARIANTS:
            for channel in channels[variant]:
                await _play(channel, think_s)
        for round_no in range(rounds):
            order = VARIANTS if round_no % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                for channel in channels[variant]:
                    latencies[(variant, channel.name)] += await _play(channel, think_s)
    return latencies


def _table(latencies: dict[tuple[str, str], list[float]]) -> str:
    lines = [
        "| channel | turns each | before p50 / p99 ms | durable p50 / p99 ms | p50 ratio |",
        "|---|---|---|---|---|",
    ]
    names = sorted({name for _, name in latencies}, key=["Telegram", "WeChat", "web chat"].index)
    for name in [*names, "all"]:

        def ms(variant: str, name: str = name) -> list[float]:
            if name == "all":
                return [
                    s * 1000 for (v, _), found in latencies.items() if v == variant for s in found
                ]
            return [s * 1000 for s in latencies[(variant, name)]]

        before, durable = ms("before"), ms("durable")
        ratio = statistics.median(durable) / statistics.median(before)
        lines.append(
            f"| {name} | {len(before)} | {statistics.median(before):.0f} / "
            f"{percentile(before, 99):.0f} | {statistics.median(durable):.0f} / "
            f"{percentile(durable, 99):.0f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Starts both servers, plays the rounds and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--think", type=float, default=THINK_S)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_telegram_api(TELEGRAM_TOKEN) as telegram_now,
        running_wechat_api(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as wechat_now,
        running_telegram_api(TELEGRAM_TOKEN) as telegram_before,
        running_wechat_api(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as wechat_before,
        benchmark_stack(**_platform_settings(telegram_now, wechat_now)) as stack,
        baseline_rasa(
            args.baseline,
            Path(tmp),
            shop_url=stack.shop_url,
            actions_url=stack.actions_url,
            settings=_platform_settings(telegram_before, wechat_before),
        ) as before_url,
    ):
        latencies = asyncio.run(
            measure(
                {
                    "before": (before_url, telegram_before, wechat_before),
                    "durable": (stack.rasa_url, telegram_now, wechat_now),
                },
                args.rounds,
                args.think,
            )
        )
    print(f"before = {args.baseline}, durable = this checkout; {args.rounds} rounds")
    print(_table(latencies))
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
