"""Fills the handoff database with a large inbox quickly (PostgreSQL ``COPY``).

The rows look like what the service itself writes: conversations in every
status with the context ``action_handoff`` sends, and transcripts of customer
and bot turns (Rasa timestamps), agent replies, private notes and activity lines.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

TEAMS = ("after_sales", "logistics", "billing", "complaints")
REASONS = ("explicit_request", "repeated_misunderstanding", "complaint", "form_failed")
WORDS = (
    "订单 到哪了 退款 发货 快递 地址 修改 发票 多久 谢谢 你好 请问 "
    "order refund where is my parcel please change address invoice thanks"
).split()

CONVERSATION_COLUMNS = (
    "id, channel, status, reason, team, urgent, assignee_id, language, summary, context, "
    "waiting_since, assigned_at, resolved_at, wait_alerted, unread, csat_pending, "
    "csat_awaiting_comment, last_activity_at, created_at"
)
MESSAGE_COLUMNS = (
    "conversation_id, role, text, agent_id, private, intent, confidence, rasa_ts, "
    "delivery, created_at"
)


@dataclass(frozen=True)
class SeedResult:
    """What the seeder wrote."""

    conversations: int
    messages: int
    by_status: dict[str, int]


TURN_GAP_S = 90


def _transcript(
    rng: random.Random,
    cid: str,
    size: int,
    created: datetime,
    handed_off: bool,
    assignee: int | None,
    agent_ids: list[int],
) -> Iterator[tuple[Any, ...]]:
    # Rows of MESSAGE_COLUMNS, oldest first; the last item is created_at.
    human_from = size // 2 if handed_off else size
    texts = [_text(rng) for _ in range(size)]
    for turn in range(size):
        at = created + timedelta(seconds=turn * TURN_GAP_S)
        text = texts[turn]
        if turn >= human_from and turn % 2 == 1:
            private = turn % 10 == 3
            agent = assignee or agent_ids[0]
            yield (
                cid,
                "agent",
                text,
                agent,
                private,
                None,
                None,
                None,
                None if private else "sent",
                at,
            )
        elif turn == human_from:
            yield (
                cid,
                "activity",
                "Handed off: explicit_request",
                None,
                False,
                None,
                None,
                None,
                None,
                at,
            )
        elif turn % 2 == 0:
            yield (
                cid,
                "customer",
                text,
                None,
                False,
                "request_refund",
                0.62,
                at.timestamp(),
                None,
                at,
            )
        else:
            yield (cid, "bot", text, None, False, None, None, at.timestamp(), None, at)


def _status(rng: random.Random) -> str:
    # Mostly finished work, a backlog waiting, a good share held by agents.
    return rng.choices(("bot", "pending", "open", "resolved"), weights=(25, 5, 15, 55))[0]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))


def seed_inbox(
    conninfo: str,
    *,
    conversations: int,
    messages: int,
    agent_ids: list[int],
    seed: int = 4,
) -> SeedResult:
    """Adds ``conversations`` conversations holding ``messages`` messages in all.

    Args:
        conninfo: A libpq URL of the service's (migrated) database.
        conversations: How many conversations to add.
        messages: How many messages to add, spread unevenly over them.
        agent_ids: Agents that hold the open and resolved conversations.
        seed: Seed of the random generator (the same seed writes the same rows).
    """
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=60)
    sizes = [rng.randint(20, 180) for _ in range(conversations)]
    scale = messages / sum(sizes)
    sizes = [max(2, round(size * scale)) for size in sizes]
    for _ in range(sum(sizes) - messages):  # rounding: take the surplus off the largest
        sizes[sizes.index(max(sizes))] -= 1
    for index in range(messages - sum(sizes)):
        sizes[index % len(sizes)] += 1
    by_status: dict[str, int] = {}
    written = 0
    with psycopg.connect(conninfo) as connection:
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY conversations ({CONVERSATION_COLUMNS}) FROM STDIN") as copy:
                plans = []
                for index, size in enumerate(sizes):
                    status = _status(rng)
                    by_status[status] = by_status.get(status, 0) + 1
                    cid = f"{rng.choice(('telegram', 'wechat', 'webchat'))}:seed-{index:06d}"
                    created = start + timedelta(seconds=index * 500 + rng.randint(0, 400))
                    last = created + timedelta(seconds=size * TURN_GAP_S)
                    held = status in ("open", "resolved")
                    assignee = rng.choice(agent_ids) if held else None
                    context = {
                        "slots": {"order_id": f"2024{index:08d}", "language": "zh-Hans"},
                        "intents": [
                            {"text": _text(rng), "intent": "request_refund", "confidence": 0.62}
                        ],
                        "after_sales_cases": [],
                    }
                    copy.write_row(
                        (
                            cid,
                            cid.split(":")[0],
                            status,
                            None if status == "bot" else rng.choice(REASONS),
                            None if status == "bot" else rng.choice(TEAMS),
                            rng.random() < 0.05,
                            assignee if status == "open" else None,
                            "zh-Hans",
                            _text(rng),
                            json.dumps(context, ensure_ascii=False),
                            last if status in ("pending", "open") else None,
                            last if held else None,
                            last if status == "resolved" else None,
                            False,
                            rng.randint(0, 3) if status == "open" else 0,
                            False,
                            False,
                            last,
                            created,
                        )
                    )
                    plans.append((cid, size, created, status != "bot", assignee))
            # Messages in time order across conversations (as they arrive in production),
            # so one conversation's rows are spread over the table like the real thing.
            transcripts = [_transcript(rng, *plan, agent_ids) for plan in plans]
            with cursor.copy(f"COPY messages ({MESSAGE_COLUMNS}) FROM STDIN") as copy:
                for row in heapq.merge(*transcripts, key=lambda row: row[-1]):
                    copy.write_row(row)
                    written += 1
        connection.commit()
        connection.execute("ANALYZE conversations")
        connection.execute("ANALYZE messages")
        connection.commit()
    return SeedResult(conversations=conversations, messages=written, by_status=by_status)
