"""``/health`` latency while 100 sign-ins arrive at once (issue 16's target: p99 < 200 ms).

Starts the real service (``python -m handoff``, PostgreSQL + Redis, argon2 at the
library's default cost) and probes ``GET /health`` every 20 ms, first alone, then
while ``--logins`` concurrent ``POST /api/auth/token`` with random usernames and
wrong passwords are in flight. ``--before REV`` runs the service's code as of a
git revision instead (``git archive``, into a temporary directory), to compare.
``--no-limits`` raises the per-address and overall sign-in limits so that every
attempt reaches argon2 (what a flood from many addresses looks like).

    .venv-handoff/bin/python -m bench.login_flood [--logins 100] [--before 5dc17e8]
        [--no-limits] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import secrets
import subprocess
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

from bench.handoff_support import (
    PROJECT_ROOT,
    fresh_database,
    percentile,
    service_process,
    serving_connector,
)

PROBE_EVERY_S = 0.02


async def _probe(http: httpx.AsyncClient, stop: asyncio.Event, failed: list[int]) -> list[float]:
    took: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await http.get("/health")
            if response.status_code != 200:
                failed.append(response.status_code)
        except httpx.HTTPError:
            failed.append(0)  # no answer at all
        took.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(PROBE_EVERY_S)
    return took


async def _sign_ins(url: str, logins: int) -> list[int]:
    limits = httpx.Limits(max_connections=logins + 10, max_keepalive_connections=logins + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/api/auth/token",
                    json={"username": f"u{uuid.uuid4().hex[:10]}", "password": "wrong-guess-1"},
                )
                for _ in range(logins)
            )
        )
    return [answer.status_code for answer in answers]


def _flood(url: str, logins: int) -> list[int]:
    """The sign-ins, in a process of their own: the prober's loop must not wait on them."""
    return asyncio.run(_sign_ins(url, logins))


async def _measure(url: str, logins: int) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as prober:
        stop = asyncio.Event()
        failed: list[int] = []
        quiet_task = asyncio.create_task(_probe(prober, stop, []))
        await asyncio.sleep(2)
        stop.set()
        quiet = await quiet_task
        stop = asyncio.Event()
        probing = asyncio.create_task(_probe(prober, stop, failed))
        started = time.perf_counter()
        with ProcessPoolExecutor(1) as pool:
            statuses = await asyncio.get_running_loop().run_in_executor(pool, _flood, url, logins)
        flood_s = time.perf_counter() - started
        stop.set()
        during = await probing
    codes = collections.Counter(statuses)
    return {
        "quiet": quiet,
        "during": during,
        "flood_s": flood_s,
        "codes": dict(codes),
        "health_failed": dict(collections.Counter(failed)),
    }


def _checkout(revision: str, into: Path) -> Path:
    archive = into / "code.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), revision, "handoff"],
        cwd=PROJECT_ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into / "code", filter="data")
    return into / "code"


async def _run(args: argparse.Namespace) -> None:
    extra: dict[str, str] = {}
    if args.workers:
        extra["HANDOFF_LOGIN_WORKERS"] = str(args.workers)
    if args.no_limits:
        extra |= {
            "HANDOFF_LOGIN_ADDRESS_ATTEMPTS": "100000",
            "HANDOFF_LOGIN_GLOBAL_ATTEMPTS": "100000",
        }
    with tempfile.TemporaryDirectory(prefix="login-flood-") as tmp:
        work = Path(tmp)
        cwd = _checkout(args.before, work) if args.before else PROJECT_ROOT
        name = f"handoff_bench_login_{secrets.token_hex(4)}"
        async with serving_connector() as (_connector, rasa_url):
            with (
                fresh_database(name) as database_url,
                service_process(database_url, rasa_url, work, cwd=cwd, **extra) as service,
            ):
                result = await _measure(service.url, args.logins)
    quiet, during = result["quiet"], result["during"]
    assert isinstance(quiet, list) and isinstance(during, list)
    code = args.before or "working tree"
    print(
        f"code: {code}; logins: {args.logins}; limits raised: {args.no_limits}; "
        f"workers: {args.workers or 'default'}"
    )
    print(f"answers: {result['codes']} in {result['flood_s']:.2f} s")
    print(f"/health failures during the flood (status: count): {result['health_failed']}")
    for label, values in (("quiet", quiet), ("during", during)):
        print(
            f"/health {label:6} n={len(values):4} p50={percentile(values, 50):8.1f} ms "
            f"p99={percentile(values, 99):8.1f} ms max={max(values):8.1f} ms"
        )


def main() -> None:
    """Parses the arguments and runs the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--before", help="a git revision whose handoff/ to run instead")
    parser.add_argument("--no-limits", action="store_true")
    parser.add_argument("--workers", type=int, help="HANDOFF_LOGIN_WORKERS (default: its default)")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
