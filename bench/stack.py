"""Starts a throw-away stack (demo shop, action server, Rasa) for a benchmark."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.models import ensure_model
from tests.support.processes import Process, base_env, free_port, wait_until


@dataclass(frozen=True)
class RunningStack:
    """A stack started for a benchmark."""

    rasa_url: str
    shop_url: str
    processes: list[Process]


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def running_stack(**extra_env: str) -> Iterator[RunningStack]:
    """Starts shop, actions and Rasa on free ports; stops them on exit."""
    ensure_model()
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        ports = {
            "DEMO_SHOP_PORT": free_port(),
            "ACTIONS_PORT": free_port(),
            "RASA_PORT": free_port(),
        }
        shop_url = f"http://127.0.0.1:{ports['DEMO_SHOP_PORT']}"
        env = base_env(
            var_dir, SHOP_API_URL=shop_url, **{k: str(v) for k, v in ports.items()}, **extra_env
        )
        processes = [Process(n, env, var_dir / f"{n}.log") for n in ("shop", "actions", "rasa")]
        rasa_url = f"http://127.0.0.1:{ports['RASA_PORT']}"
        urls = [
            f"{shop_url}/health",
            f"http://127.0.0.1:{ports['ACTIONS_PORT']}/health",
            f"{rasa_url}/status",
        ]
        try:
            for process in processes:
                process.start()
            for process, url in zip(processes, urls, strict=True):
                wait_until(
                    lambda p=process, u=url: (
                        (p.assert_running() is None) and httpx.get(u, timeout=2).status_code == 200
                    ),
                    timeout_s=300,
                    what=process.name,
                )
            yield RunningStack(rasa_url, shop_url, processes)
        finally:
            for process in reversed(processes):
                process.stop()
