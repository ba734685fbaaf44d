"""What the handoff benchmarks share: a throw-away PostgreSQL database, the
service in its own process, a stand-in connector, and a small API client.

Runs in the handoff service's environment (``.venv-handoff``, Python 3.11).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from handoff.security import hash_password

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE_TOKEN = "bench-service-token-" + secrets.token_hex(8)
ADMIN = ("bench-admin", secrets.token_urlsafe(16))  # passes the password policy


class BenchError(RuntimeError):
    """A benchmark could not set itself up."""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def fresh_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """Creates database ``name`` and yields its SQLAlchemy URL; drops it after (unless ``keep``).

    With ``keep`` an existing database is reused as it is (to time a seeded inbox again).
    """
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not keep:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not keep:
            admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_admin_password(conninfo: str) -> None:
    """A reused database keeps the admin of an earlier run: give it this run's password."""
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "UPDATE agents SET password_hash = %s WHERE username = %s",
            (hash_password(ADMIN[1]), ADMIN[0]),
        )


@dataclass
class Connector:
    """Stands in for Rasa's HTTP API and the connectors' ``/webhooks/<channel>/outbound``.

    Answers at once; records when each outbound text arrived (``time.perf_counter``)
    and resolves the future a benchmark registered for it with ``expect``.
    """

    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    outbound_count: int = 0

    def expect(self, text: str) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the outbound message ``text``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[text] = future
        return future

    def app(self) -> Starlette:
        """The ASGI app."""

        async def outbound(request: Request) -> JSONResponse:
            arrived = time.perf_counter()
            if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
                return JSONResponse({"sent": False, "error": "forbidden"}, 403)
            body = await request.json()
            self.outbound_count += 1
            future = self.waiting.pop(str(body.get("text")), None)
            if future is not None and not future.done():
                future.set_result(arrived)
            return JSONResponse({"sent": True})

        async def tracker_events(request: Request) -> JSONResponse:
            body = await request.json()
            return JSONResponse({"sender_id": request.path_params["cid"], "events": [body]})

        return Starlette(
            routes=[
                Route("/webhooks/{channel}/outbound", outbound, methods=["POST"]),
                Route("/conversations/{cid}/tracker/events", tracker_events, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serving_connector() -> AsyncIterator[tuple[Connector, str]]:
    """The stand-in connector under uvicorn, in this event loop; yields it and its URL."""
    connector = Connector()
    port = free_port()
    config = uvicorn.Config(
        connector.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise BenchError("the stand-in connector did not start")
        await asyncio.sleep(0.02)
    try:
        yield connector, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class Service:
    """The running service: its base URL and process id."""

    url: str
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process used so far, from /proc."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def service_process(
    database_url: str, rasa_url: str, work_dir: Path, *, cwd: Path = PROJECT_ROOT, **extra: str
) -> Iterator[Service]:
    """``python -m handoff`` (migrates, then serves) on a free port; ``cwd`` holds the code."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "RASA_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env |= {
        "HANDOFF_ENV": "development",
        "HANDOFF_PORT": str(port),
        "HANDOFF_DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "HANDOFF_REDIS_PREFIX": f"handoff-bench-{secrets.token_hex(4)}:",
        "RASA_URL": rasa_url,
        "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
        "HANDOFF_SECRET_KEY": secrets.token_hex(32),
        "HANDOFF_BOOTSTRAP_ADMIN": f"{ADMIN[0]}:{ADMIN[1]}",
        "HANDOFF_BUSINESS_HOURS": "00:00-23:59",
        "HANDOFF_SWEEP_INTERVAL_S": "3600",
        "BOT_VAR_DIR": str(work_dir),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    log_path = work_dir / "handoff.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "handoff"],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise BenchError(f"the handoff service exited:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError("the handoff service did not start in 120 s")
            time.sleep(0.3)
        yield Service(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def token(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """The bearer header of ``username``."""
    response = await http.post("/api/auth/token", json={"username": username, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_agent(
    http: httpx.AsyncClient, admin: dict[str, str], username: str, **fields: Any
) -> dict[str, str]:
    """Creates an agent through ``POST /api/agents``; returns its bearer header."""
    password = secrets.token_urlsafe(16)
    response = await http.post(
        "/api/agents",
        headers=admin,
        json={"username": username, "password": password, **fields},
    )
    if response.status_code != 201:
        raise BenchError(f"could not create {username}: {response.status_code} {response.text}")
    return await token(http, username, password)


def service_headers() -> dict[str, str]:
    """The Rasa side's credentials for ``/api/internal/*``."""
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}
