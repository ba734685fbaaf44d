"""Claiming message ids in SQLite: SQLAlchemy's default engine against the connectors' one.

SQLAlchemy 1.4's default for a SQLite file opens a connection per use and
keeps a rollback journal; :func:`connectors.database.create_engine` keeps
connections open and uses WAL with ``synchronous=NORMAL``. Each round claims
``--claims`` fresh ids through :class:`connectors.dedupe.SqlSeenMessages`
(one thread hop each, as the webhooks do), alternating the two engines, in a
temporary folder on the same disk as ``var/``.

    .venv/bin/python -m bench.seen_messages [--claims 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from connectors.dedupe import SqlSeenMessages

ROOT = Path(__file__).resolve().parents[1]


def _stores(folder: Path) -> dict[str, SqlSeenMessages]:
    # Built around the constructor, which would put the file in WAL mode for good.
    default = SqlSeenMessages.__new__(SqlSeenMessages)
    default._engine = sa.create_engine(f"sqlite:///{folder / 'default.db'}", future=True)
    SqlSeenMessages._metadata.create_all(default._engine)
    return {
        "SQLAlchemy default (connection per use, rollback journal)": default,
        "connectors.database (pooled, WAL, synchronous=NORMAL)": SqlSeenMessages(
            f"sqlite:///{folder / 'connectors.db'}"
        ),
    }


async def _round(store: SqlSeenMessages, claims: int, prefix: str) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(claims):
        if not await store.claim(f"{prefix}:{n}"):
            raise RuntimeError(f"{prefix}:{n} claimed twice")
    return (
        (time.process_time() - cpu) * 1000 / claims,
        (time.perf_counter() - wall) * 1000 / claims,
    )


async def measure(
    folder: Path, claims: int, rounds: int
) -> dict[str, tuple[str, list[tuple[float, float]]]]:
    """Per engine: its journal mode, and CPU and wall ms per claim in each round."""
    stores = _stores(folder)
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
    for round_no in range(rounds):
        order = list(stores.items())
        for name, store in order if round_no % 2 == 0 else reversed(order):
            timings[name].append(await _round(store, claims, f"r{round_no}"))
    results = {}
    for name, store in stores.items():
        with store._engine.connect() as connection:
            journal = str(connection.exec_driver_sql("PRAGMA journal_mode").scalar())
        results[name] = (journal, timings[name])
    return results


def main() -> None:
    """Times both engines and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as folder:
        results = asyncio.run(measure(Path(folder), args.claims, args.rounds))
    print("| engine | journal mode | CPU ms per claim | wall ms per claim |")
    print("|---|---|---|---|")
    for name, (journal, rounds) in results.items():
        cpu = statistics.median(r[0] for r in rounds)
        wall = statistics.median(r[1] for r in rounds)
        print(f"| {name} | {journal} | {cpu:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
