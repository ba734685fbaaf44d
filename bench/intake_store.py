"""The connectors' database work per message: the old id claim against the durable intake.

Before the durable intake (commit bdbb3c5) a webhook claimed the message id
with one insert into ``connector_seen_messages`` and kept the message in
memory. The intake stores the whole message (one insert), takes it (a select
and an update) and marks it done (an update). Each round pushes
``--messages`` fresh messages through both, alternating which goes first, on
a SQLite file in WAL mode (the embedded default; ``--url`` for another
database) in a temporary folder on the same disk as ``var/``. The handler
does nothing, so what is timed is the database work alone.

    .venv/bin/python -m bench.intake_store [--messages 400] [--rounds 5] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from connectors.database import create_engine, run_quick
from connectors.intake.config import IntakeConfig
from connectors.intake.queue import Intake
from connectors.intake.store import InboundStore, Stored, position

ROOT = Path(__file__).resolve().parents[1]

_claims = sa.MetaData()
_seen = sa.Table(
    "connector_seen_messages",
    _claims,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False, index=True),
)


class OldClaim:
    """bdbb3c5's claim: one insert of the id; a clash means a retry."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        _claims.create_all(self.engine)
        self.local = self.engine.dialect.name == "sqlite"

    def _claim(self, key: str) -> bool:
        with self.engine.begin() as connection:
            try:
                with connection.begin_nested():
                    connection.execute(_seen.insert().values(key=key, seen_at=time.time()))
            except sa.exc.IntegrityError:
                return False
        return True

    async def message(self, key: str, n: int) -> None:
        if not await run_quick(self.local, self._claim, key):
            raise RuntimeError(f"{key} claimed twice")


class DurableIntake:
    """The intake: store, take, handle (nothing), mark done."""

    def __init__(self, url: str) -> None:
        self.intake = Intake(InboundStore(url), "bench", IntakeConfig())

        async def nothing(_message: Stored) -> None:
            return None

        self.intake.bind(nothing)

    async def message(self, key: str, n: int) -> None:
        if not await self.intake.accept(
            key=key, conversation_id=f"c{n % 16}", position=position(n), payload={"text": "你好"}
        ):
            raise RuntimeError(f"{key} stored twice")


async def _round(path: OldClaim | DurableIntake, messages: int, prefix: str) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(messages):
        await path.message(f"{prefix}:{n}", n)
    if isinstance(path, DurableIntake):
        await path.intake.wait()
    return (
        (time.process_time() - cpu) * 1000 / messages,
        (time.perf_counter() - wall) * 1000 / messages,
    )


async def measure(url: str, messages: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Per path: CPU and wall ms per message in each round."""
    paths: dict[str, OldClaim | DurableIntake] = {
        "id claim, message kept in memory (bdbb3c5)": OldClaim(url),
        "durable intake (store, take, mark done)": DurableIntake(url),
    }
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for round_no in range(rounds):
        order = list(paths.items())
        for name, path in order if round_no % 2 == 0 else reversed(order):
            timings[name].append(await _round(path, messages, f"r{round_no}"))
    return timings


def main() -> None:
    """Times both paths and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="a database URL (default: a SQLite file)")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'connectors.db'}"
        results = asyncio.run(measure(url, args.messages, args.rounds))
    print("| path | CPU ms per message | wall ms per message |")
    print("|---|---|---|")
    for name, rounds in results.items():
        cpu = statistics.median(r[0] for r in rounds)
        wall = statistics.median(r[1] for r in rounds)
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
