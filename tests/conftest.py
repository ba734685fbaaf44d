"""Session fixtures: the real stack (demo shop, action server, Rasa) started once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.models import ensure_model
from tests.support.processes import Process, base_env, free_port, wait_until
from tests.support.summary import SUMMARY

RASA_START_TIMEOUT_S = 240


@dataclass(frozen=True)
class Stack:
    """URLs of a running stack."""

    shop_url: str
    actions_url: str
    rasa_url: str
    var_dir: Path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Demo shop (fresh database), action server and Rasa server on free ports."""
    ensure_model()
    var_dir = tmp_path_factory.mktemp("stack")
    ports = {"DEMO_SHOP_PORT": free_port(), "ACTIONS_PORT": free_port(), "RASA_PORT": free_port()}
    shop_url = f"http://127.0.0.1:{ports['DEMO_SHOP_PORT']}"
    env = base_env(var_dir, SHOP_API_URL=shop_url, **{k: str(v) for k, v in ports.items()})
    processes = [
        Process(name, env, var_dir / f"{name}.log") for name in ("shop", "actions", "rasa")
    ]
    stack = Stack(
        shop_url=shop_url,
        actions_url=f"http://127.0.0.1:{ports['ACTIONS_PORT']}",
        rasa_url=f"http://127.0.0.1:{ports['RASA_PORT']}",
        var_dir=var_dir,
    )
    try:
        for process in processes:
            process.start()

        def ready(url: str, process: Process) -> bool:
            process.assert_running()
            return httpx.get(url, timeout=2).status_code == 200

        wait_until(lambda: ready(f"{shop_url}/health", processes[0]), timeout_s=60, what="shop")
        wait_until(
            lambda: ready(f"{stack.actions_url}/health", processes[1]),
            timeout_s=120,
            what="actions",
        )
        wait_until(
            lambda: ready(f"{stack.rasa_url}/status", processes[2]),
            timeout_s=RASA_START_TIMEOUT_S,
            what="rasa",
        )
        yield stack
    finally:
        for process in reversed(processes):
            process.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("assistant summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
