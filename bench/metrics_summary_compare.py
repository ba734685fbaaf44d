"""The metrics summary before and after migration 0006, side by side on one database.

Needs the database ``bench.metrics_summary --keep`` leaves behind and a copy of
the old code (``git archive <old commit> handoff | tar -x -C DIR``). Copies the
database and downgrades the copy to revision 0005 (no stamps, rollup or 0006
indexes), then alternates runs of the old ``metrics.summary`` on the copy (in a
subprocess importing ``DIR/handoff``) and the new one on the original, and checks
both give the same summary. Drops the copy.

    .venv-handoff/bin/python -m bench.metrics_summary_compare --old-src DIR [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import psycopg
from alembic import command

from handoff import db
from handoff.services import metrics

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVER = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
URL = f"{SERVER}/handoff_bench_metrics"
OLD_URL = f"{SERVER}/handoff_bench_metrics_0005"
ONE_RUN = """
import asyncio, json, time
import psycopg
from alembic import command

from handoff import db
from handoff.services import metrics

async def run():
    engine = db.create_engine({url!r})
    where = metrics.parse_filter(timezone="Asia/Shanghai", first="2026-10-01", last="2026-10-30")
    async with db.sessionmaker(engine)() as session:
        started = time.perf_counter()
        found = await metrics.summary(session, where)
        print(time.perf_counter() - started)
        print(json.dumps(found, sort_keys=True))
    await engine.dispose()

asyncio.run(run())
"""


def copy_at_0005() -> None:
    """The benchmark database, copied and downgraded to revision 0005."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS handoff_bench_metrics_0005 WITH (FORCE)")
        admin.execute("CREATE DATABASE handoff_bench_metrics_0005 TEMPLATE handoff_bench_metrics")
    command.downgrade(db.alembic_config(OLD_URL), "0005")
    plain = OLD_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def old_run(old_src: str) -> tuple[float, dict[str, Any]]:
    """One run of the old summary on the 0005 copy; seconds and the summary."""
    env = {**os.environ, "PYTHONPATH": old_src}
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN.format(url=OLD_URL)],
        env=env,
        cwd=old_src,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return float(out[0]), json.loads(out[1])


async def new_run() -> tuple[float, dict[str, Any]]:
    """One run of the new summary."""
    engine = db.create_engine(URL)
    where = metrics.parse_filter(timezone="Asia/Shanghai", first="2026-10-01", last="2026-10-30")
    try:
        async with db.sessionmaker(engine)() as session:
            started = time.perf_counter()
            found = await metrics.summary(session, where)
            return time.perf_counter() - started, found
    finally:
        await engine.dispose()


def main() -> None:
    """Alternates old and new; prints medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old-src", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    copy_at_0005()
    old: list[float] = []
    new: list[float] = []
    try:
        _alternate(args.old_src, args.runs, old, new)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS handoff_bench_metrics_0005 WITH (FORCE)")
    print("| summary, 30 days | median s | runs s |\n|---|---|---|")
    print(
        f"| before (0005) | {statistics.median(old):.3f} | {', '.join(f'{v:.2f}' for v in old)} |"
    )
    print(f"| after (0006) | {statistics.median(new):.3f} | {', '.join(f'{v:.2f}' for v in new)} |")
    print(f"ratio: {statistics.median(old) / statistics.median(new):.0f}×")


def _alternate(old_src: str, runs: int, old: list[float], new: list[float]) -> None:
    for _ in range(runs):
        seconds, counted_old = old_run(old_src)
        old.append(seconds)
        seconds, counted_new = asyncio.run(new_run())
        new.append(seconds)
        assert counted_old == counted_new, (counted_old, counted_new)
    print(f"both give the same summary: {json.dumps(counted_new, sort_keys=True)}")


if __name__ == "__main__":
    main()
