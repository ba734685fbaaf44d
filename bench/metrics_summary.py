"""Time of the metrics summary (and each dashboard table) over 30 days, 1,000,000 messages.

Seeds its own PostgreSQL database with SQL (125,000 conversations × 8 messages,
every 10th handed off and resolved with a rating) at revision 0005, then
upgrades to head: migration 0006 stamps the rows with the same values ingest
stamps (sessions, bot response times). It checks that on a sample — clears a
few conversations' stamps and replays their turns, in shuffled order, through
``stamps.stamp_turn``, the function ingest calls — then times
``metrics.summary`` and ``metrics.table`` over the whole 30 days and drops the
database.

    .venv-handoff/bin/python -m bench.metrics_summary [--messages 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psycopg
from alembic import command
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import db
from handoff.models import Conversation, Message, MessageCount, bucket_of
from handoff.services import metrics
from handoff.services.metrics import rollup, stamps

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "handoff_bench_metrics"
FIRST = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
PER_CONVERSATION = 8

SEED = """
INSERT INTO conversations (id, channel, status, reason, team, urgent, context, wait_alerted,
                           unread, csat_pending, csat_awaiting_comment, last_activity_at,
                           created_at)
SELECT 'telegram:' || n, (ARRAY['telegram','wechat','webchat'])[1 + n %% 3],
       CASE WHEN n %% 10 = 0 THEN 'resolved' ELSE 'bot' END,
       CASE WHEN n %% 10 = 0 THEN 'explicit_request' END,
       CASE WHEN n %% 10 = 0 THEN 'billing' END, false, '{}', false, 0, false, false,
       %(first)s::timestamptz + (n::bigint * %(span)s / %(count)s) * interval '1 second',
       %(first)s::timestamptz + (n::bigint * %(span)s / %(count)s) * interval '1 second'
FROM generate_series(1, %(count)s) AS n;

INSERT INTO messages (conversation_id, role, text, private, intent, confidence, rasa_ts,
                      created_at)
SELECT 'telegram:' || n, CASE WHEN k %% 2 = 0 THEN 'customer' ELSE 'bot' END,
       'message ' || (n %% 5000), false,
       CASE WHEN k %% 2 = 0 THEN (ARRAY['greet','track_shipment','request_refund',
            'nlu_fallback','faq','thank'])[1 + (n + k) %% 6] END,
       CASE WHEN k %% 2 = 0 THEN 0.8 END,
       extract(epoch FROM %(first)s::timestamptz)
            + n::bigint * %(span)s / %(count)s + k * 20 + (k %% 2) * 0.4,
       %(first)s::timestamptz + (n::bigint * %(span)s / %(count)s + k * 20 + (k %% 2) * 0.4)
            * interval '1 second'
FROM generate_series(1, %(count)s) AS n, generate_series(0, %(per)s - 1) AS k;

INSERT INTO handoff_records (conversation_id, reason, team, urgent, started_at, assigned_at,
                             first_response_at, ended_at, outcome)
SELECT 'telegram:' || n, 'explicit_request', 'billing', false,
       t + interval '70 seconds', t + interval '80 seconds', t + interval '100 seconds',
       t + interval '400 seconds', 'resolved'
FROM (SELECT n,
             %(first)s::timestamptz + (n::bigint * %(span)s / %(count)s) * interval '1 second' AS t
      FROM generate_series(10, %(count)s, 10) AS n) AS h;

INSERT INTO csat_ratings (conversation_id, handoff_id, rating, comment, created_at)
SELECT conversation_id, id, 1 + id %% 5, CASE WHEN id %% 7 = 0 THEN 'ok' END, ended_at
FROM handoff_records;
ANALYZE;
"""


def seed(url: str, messages: int) -> float:
    """Creates and fills the benchmark database at 0005, upgrades it; seconds of the upgrade."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    command.upgrade(db.alembic_config(url), "0005")
    count = messages // PER_CONVERSATION
    params = {"first": FIRST, "span": DAYS * 86400 - 400, "count": count, "per": PER_CONVERSATION}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for statement in filter(str.strip, SEED.split(";\n")):
            conn.execute(statement, params)
        conn.commit()
    started = time.perf_counter()
    db.migrate(url)  # 0006 stamps the rows
    upgrade_s = time.perf_counter() - started
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")
    return upgrade_s


STAMPS = ("session_start", "next_session_at", "next_session_ts", "response_ms")


async def _rollup(session: AsyncSession) -> Counter[tuple[Any, ...]]:
    rows = await session.execute(
        select(
            MessageCount.bucket_start,
            MessageCount.channel,
            MessageCount.role,
            MessageCount.intent,
            MessageCount.messages,
        )
    )
    return Counter({tuple(row[:4]): row[4] for row in rows})


async def check_stamps(url: str, sample: int) -> int:
    """Replays ``sample`` conversations through ingest's stamping and the rollup's insert hook.

    The stamps must equal the migration's; the rollup must grow by exactly the
    replayed messages. Raises on any difference; returns how many turns were compared.
    """
    rollup.register()
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    shuffle = random.Random(6)
    compared = 0
    try:
        async with sessions() as session:
            ids = list(
                await session.scalars(select(Conversation.id).order_by(func.random()).limit(sample))
            )
            rows = await session.execute(
                select(Conversation.id, Conversation.channel).where(Conversation.id.in_(ids))
            )
            channels = {cid: channel for cid, channel in rows}
            before = await _rollup(session)
            replayed_counts: Counter[tuple[Any, ...]] = Counter()
            for cid in ids:
                turns = list(
                    await session.scalars(
                        select(Message)
                        .where(Message.conversation_id == cid, Message.rasa_ts.is_not(None))
                        .order_by(Message.rasa_ts)
                    )
                )
                migrated = {m.id: tuple(getattr(m, c) for c in STAMPS) for m in turns}
                session.expunge_all()
                # Take the turns away and store them again one by one, in shuffled order.
                await session.execute(delete(Message).where(Message.conversation_id == cid))
                fresh = [
                    Message(
                        id=m.id,
                        conversation_id=cid,
                        role=m.role,
                        text=m.text,
                        intent=m.intent,
                        confidence=m.confidence,
                        rasa_ts=m.rasa_ts,
                        created_at=m.created_at,
                        private=False,
                    )
                    for m in turns
                ]
                shuffle.shuffle(fresh)
                for message in fresh:
                    session.add(message)
                    await session.flush()
                    await stamps.stamp_turn(session, message)
                await session.flush()
                for message in fresh:
                    key = (bucket_of(message.created_at), channels[cid], message.role.value)
                    replayed_counts[(*key, message.intent or "")] += 1
                    replayed = tuple(getattr(message, c) for c in STAMPS)
                    if replayed != migrated[message.id]:
                        raise AssertionError(
                            f"{cid} #{message.id}: {replayed} != {migrated[message.id]}"
                        )
                    compared += 1
            grown = await _rollup(session)
            grown.subtract(before)
            if +grown != replayed_counts:
                raise AssertionError("the rollup did not grow by the replayed messages")
            await session.rollback()
    finally:
        await engine.dispose()
    return compared


async def measure(url: str, runs: int) -> dict[str, list[float]]:
    """Seconds per run of the summary and of each table over the 30 days."""
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    where = metrics.parse_filter(timezone="Asia/Shanghai", first="2026-10-01", last="2026-10-30")
    timings: dict[str, list[float]] = {}
    try:
        for _ in range(runs):
            async with sessions() as session:
                started = time.perf_counter()
                found = await metrics.summary(session, where)
                timings.setdefault("summary", []).append(time.perf_counter() - started)
                for name in metrics.TABLES:
                    started = time.perf_counter()
                    await metrics.table(session, name, where)
                    timings.setdefault(name, []).append(time.perf_counter() - started)
        print({k: found[k] for k in ("conversations", "messages", "handoff_rate", "csat_average")})
    finally:
        await engine.dispose()
    return timings


def main() -> None:
    """Seeds, measures, prints a Markdown table, drops the database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=200, help="conversations replayed")
    parser.add_argument("--keep", action="store_true", help="keep the database (for EXPLAIN)")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    args = parser.parse_args()
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url += f"/{DATABASE}"
    started = time.perf_counter()
    if not args.reuse:
        upgrade_s = seed(url, args.messages)
        print(f"seeded {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
        print(f"migration 0006 (stamps and rollup of the stored rows): {upgrade_s:.1f} s")
    try:
        compared = asyncio.run(check_stamps(url, args.sample))
        print(f"stamps of {compared} turns ({args.sample} conversations) replayed through")
        print("stamps.stamp_turn in shuffled order: identical to the migration's;")
        print("the message_counts rollup grew by exactly the replayed messages")
        timings = asyncio.run(measure(url, args.runs))
        print("| query | median s | max s |\n|---|---|---|")
        for name, values in timings.items():
            print(f"| {name} | {statistics.median(values):.3f} | {max(values):.3f} |")
    finally:
        if not args.keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
