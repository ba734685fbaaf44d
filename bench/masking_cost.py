"""The cost of masking personal data on the inbox list (issue 16: p99 under 50 ms).

Two measures:

1. **masking alone**, in process: the list's two customer texts per row
   (summary and last message) of 10,000 conversations, one in five holding
   personal data (phones, e-mail, addresses, ID and card numbers), masked a
   page at a time (50, the default page, and 500, the largest): p50/p99 per page.
2. **the inbox list with masking**, end to end: the real service
   (``python -m handoff``) on a fresh PostgreSQL database seeded with 10,000
   conversations and ``--messages`` messages (``bench.handoff_seed``), one in
   five summaries and customer messages then given personal data; every
   filter of ``GET /api/conversations`` timed as ``bench.handoff_latency`` does,
   then again by a second service process on the same database whose list is
   not masked (a ``sitecustomize`` in the bench's temporary directory replaces
   the list's ``mask_text`` by the identity; the service has no such switch).

    .venv-handoff/bin/python -m bench.masking_cost [--messages 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench.handoff_latency import Row, _print, inbox
from bench.handoff_seed import WORDS, seed_inbox
from bench.handoff_support import (
    ADMIN,
    create_agent,
    fresh_database,
    percentile,
    service_process,
    serving_connector,
    token,
)
from handoff.services.privacy.mask import mask_text

PERSONAL = (
    "我的手机 13812345678",
    "call me on +86 139 1234 5678",
    "mail li.lei@example.com",
    "寄到上海市浦东新区张江路88号3栋501室",
    "身份证 11010519491231002X",
    "卡号 6222 0212 3456 7890 123",
    "HK +852 9123 4567",
    "I moved to 221B Baker Street",
)
CONVERSATIONS = 10_000
SHARE = 0.2
UNMASKED = """
import os, sys
sys.path.insert(0, os.getcwd())
import handoff.services.inbox_list as inbox_list
inbox_list.mask_text = lambda text, **_: text
"""


def _texts(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(summary, last message) of ``count`` rows; ``SHARE`` of the texts with personal data."""

    def one() -> str:
        text = " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
        return f"{text} {rng.choice(PERSONAL)}" if rng.random() < SHARE else text

    return [(one(), one()) for _ in range(count)]


def masking_alone(repeat: int) -> list[Row]:
    """Measure 1: masking the list's texts, a page at a time."""
    rows = _texts(random.Random(16), CONVERSATIONS)
    found: list[Row] = []
    for page in (50, 500):
        timings = []
        for _ in range(repeat):
            for start in range(0, len(rows), page):
                began = time.perf_counter()
                for summary, last in rows[start : start + page]:
                    mask_text(summary)
                    mask_text(last)
                timings.append((time.perf_counter() - began) * 1000)
        found.append(
            (
                f"masking alone, a page of {page} rows",
                len(timings),
                statistics.median(timings),
                percentile(timings, 99),
                0,
                None,
            )
        )
    return found


def add_personal_data(conninfo: str) -> None:
    """One in five summaries and customer messages get a piece of personal data."""
    with psycopg.connect(conninfo) as connection:
        for table, column, where in (
            ("conversations", "summary", "TRUE"),
            ("messages", "text", "role = 'customer'"),
        ):
            connection.execute(
                f"UPDATE {table} SET {column} = coalesce({column}, '') || ' ' || "
                f"(%s::text[])[1 + floor(random() * %s)::int] "
                f"WHERE {where} AND random() < %s",
                (list(PERSONAL), len(PERSONAL), SHARE),
            )


async def _service(args: argparse.Namespace, url: str, work_dir: Path) -> list[Row]:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    async with serving_connector() as (_connector, connector_url):
        with service_process(url, connector_url, work_dir) as service:
            async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
                admin = await token(http, *ADMIN)
                for n in range(4):
                    await create_agent(http, admin, f"seed-agent-{n}", skills=[], capacity=30)
            with psycopg.connect(conninfo) as connection:
                agents = [
                    r[0] for r in connection.execute("SELECT id FROM agents WHERE role='agent'")
                ]
            started = time.perf_counter()
            seeded = seed_inbox(
                conninfo, conversations=CONVERSATIONS, messages=args.messages, agent_ids=agents
            )
            add_personal_data(conninfo)
            print(
                f"seeded {seeded.conversations} conversations and {seeded.messages} messages, "
                f"personal data added, in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            masked = await inbox(service, url, requests=args.requests, limit=None)
        patch_dir = work_dir / "unmasked"
        patch_dir.mkdir()
        (patch_dir / "sitecustomize.py").write_text(UNMASKED)
        with service_process(url, connector_url, work_dir, PYTHONPATH=str(patch_dir)) as service:
            plain = await inbox(service, url, requests=args.requests, limit=None)
    return [
        *[(f"{name}, masked", *rest) for name, *rest in masked],
        *[(f"{name}, not masked", *rest) for name, *rest in plain],
    ]


def main() -> None:
    """Prints a markdown table of both measures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="inbox lists per filter")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the 10,000 rows")
    parser.add_argument("--only", choices=("alone", "service"))
    parser.add_argument("--database", default="handoff_bench_masking")
    args = parser.parse_args()
    rows = [] if args.only == "service" else masking_alone(args.repeat)
    if args.only != "alone":
        with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database) as url:
            rows += asyncio.run(_service(args, url, Path(tmp)))
    _print(rows)


if __name__ == "__main__":
    main()
