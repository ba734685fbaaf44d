"""Starting the stack's real processes for a test session and waiting for them."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Polls ``check`` until it returns True, or fails the test session."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout_s:.0f} s")


@dataclass
class Process:
    """One of the stack's processes: ``python -m bot serve <name>`` unless ``command``."""

    name: str
    env: dict[str, str]
    log_path: Path
    command: list[str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        """Starts the process, logging to ``log_path``."""
        log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            self.command or [sys.executable, "-m", "bot", "serve", self.name],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def assert_running(self) -> None:
        """Fails loudly, with the log, when the process died."""
        assert self.popen is not None
        if self.popen.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL)."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def base_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a test stack: no user .env, everything under ``var_dir``."""
    inherited = ("SHOP_", "RASA_", "WECHAT_", "TELEGRAM_", "HANDOFF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env |= {"BOT_VAR_DIR": str(var_dir), "BOT_IGNORE_DOTENV": "1", "PYTHONUNBUFFERED": "1"}
    env |= overrides
    return env


STACK_START_TIMEOUT_S = 300
HANDOFF_PYTHON = PROJECT_ROOT / ".venv-handoff" / "bin" / "python"
HANDOFF_ADMIN = ("admin", secrets.token_urlsafe(12))


@dataclass(frozen=True)
class HandoffService:
    """The real handoff service of a stack: its URL, service token and first admin."""

    url: str
    token: str
    admin: tuple[str, str]


@dataclass(frozen=True)
class Stack:
    """A running stack: its URLs, its folder and its processes."""

    shop_url: str
    actions_url: str
    rasa_url: str
    var_dir: Path
    processes: list[Process]
    handoff: HandoffService | None = None


def handoff_process(var_dir: Path, env: dict[str, str], port: int, rasa_url: str) -> Process:
    """``python -m handoff`` in its own environment, on SQLite under ``var_dir``.

    Business hours cover the whole day so that what customers are told does
    not depend on when the tests run. Agents are created by the tests, without
    skills, so nothing is assigned automatically: they claim by hand.
    """
    handoff_env = env | {
        "HANDOFF_HOST": "127.0.0.1",
        "HANDOFF_PORT": str(port),
        "HANDOFF_DATABASE_URL": f"sqlite:///{var_dir / 'handoff.sqlite3'}",
        "RASA_URL": rasa_url,
        "HANDOFF_SECRET_KEY": secrets.token_urlsafe(32),
        "HANDOFF_BOOTSTRAP_ADMIN": ":".join(HANDOFF_ADMIN),
        "HANDOFF_BUSINESS_HOURS": "00:00-00:00",
        # Rasa holds a conversation's lock while it handles a message; on a
        # busy test machine a resume may wait behind several seconds of that.
        "RASA_TIMEOUT_S": "60",
    }
    return Process(
        "handoff",
        handoff_env,
        var_dir / "handoff.log",
        command=[str(HANDOFF_PYTHON), "-m", "handoff"],
    )


@contextmanager
def running_stack(var_dir: Path, *, handoff: bool = False, **settings: str) -> Iterator[Stack]:
    """Demo shop, action server and Rasa on free ports, with extra ``settings``.

    The shop starts on a fresh database under ``var_dir``; the processes stop
    when the block ends. Rasa serves ``models/current.tar.gz``. With
    ``handoff``, the real handoff service (``.venv-handoff``, ``python -m
    handoff``) runs too, with its own SQLite database, a fresh service token
    shared with Rasa and the action server, and a bootstrap admin
    (:data:`HANDOFF_ADMIN`); ``HANDOFF_URL`` points at it.
    """
    ports = {"DEMO_SHOP_PORT": free_port(), "ACTIONS_PORT": free_port(), "RASA_PORT": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    service: HandoffService | None = None
    handoff_port = free_port()
    if handoff:
        service = HandoffService(
            url=f"http://127.0.0.1:{handoff_port}",
            token=secrets.token_urlsafe(24),
            admin=HANDOFF_ADMIN,
        )
        settings = {"HANDOFF_URL": service.url, "HANDOFF_SERVICE_TOKEN": service.token} | settings
    env = base_env(
        var_dir,
        SHOP_API_URL=urls["DEMO_SHOP_PORT"],
        **{name: str(port) for name, port in ports.items()},
        **settings,
    )
    processes = [
        Process(name, env, var_dir / f"{name}.log") for name in ("shop", "actions", "rasa")
    ]
    health = [
        f"{urls['DEMO_SHOP_PORT']}/health",
        f"{urls['ACTIONS_PORT']}/health",
        f"{urls['RASA_PORT']}/status",
    ]
    if service is not None:
        processes.append(handoff_process(var_dir, env, handoff_port, urls["RASA_PORT"]))
        health.append(f"{service.url}/health")
    try:
        for process in processes:
            process.start()
        for process, url in zip(processes, health, strict=True):

            def ready(process: Process = process, url: str = url) -> bool:
                process.assert_running()
                return httpx.get(url, timeout=2).status_code == 200

            wait_until(ready, timeout_s=STACK_START_TIMEOUT_S, what=process.name)
        yield Stack(
            shop_url=urls["DEMO_SHOP_PORT"],
            actions_url=urls["ACTIONS_PORT"],
            rasa_url=urls["RASA_PORT"],
            var_dir=var_dir,
            processes=processes,
            handoff=service,
        )
    finally:
        for process in reversed(processes):
            process.stop()
