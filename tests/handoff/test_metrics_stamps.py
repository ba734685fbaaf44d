"""What ingest stores for the metrics (stamps on customer turns, the message_counts rollup)
equals what the window functions and GROUP BYs of migration 0006 compute from the messages,
whatever order the turns arrive in."""

from __future__ import annotations

import importlib.util
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from handoff.models import bucket_of
from tests.handoff.helpers import bot_event, handoff_body, service_headers, user_event

T = datetime(2026, 3, 1, 15, 59, 30, tzinfo=UTC).timestamp()  # 23:59:30 Asia/Shanghai
MIGRATION = (
    Path(__file__).resolve().parents[2] / "handoff/migrations/versions/0006_metrics_stamps.py"
)
STAMPS = "session_start, next_session_ts, response_ms"


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0006", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _events() -> list[dict[str, Any]]:
    return [
        # telegram:7: answered, an unanswered turn followed by another, a new session
        # 4000 s later (an hour is the gap), an unanswered turn, a third session.
        user_event("telegram:7", "hi", T, intent="greet"),
        bot_event("telegram:7", "Hello", T + 0.5),
        user_event("telegram:7", "order", T + 10, intent="track_shipment"),
        user_event("telegram:7", "20241105001", T + 20, intent="inform"),
        bot_event("telegram:7", "Shipped", T + 21.25),
        user_event("telegram:7", "again", T + 4000, intent="nlu_fallback", confidence=0.3),
        bot_event("telegram:7", "Sorry?", T + 4000.75),
        user_event("telegram:7", "hello?", T + 4100, intent="nlu_fallback", confidence=0.2),
        user_event("telegram:7", "back", T + 9000, intent="greet"),
        # webchat:s8: exactly one gap later is still the same session.
        user_event("webchat:s8", "hi", T + 100, intent="greet"),
        bot_event("webchat:s8", "Hi", T + 100.3),
        user_event("webchat:s8", "still there", T + 3700, intent="greet"),
        bot_event("webchat:s8", "Yes", T + 3701),
    ]


def _post(client: TestClient, events: list[dict[str, Any]]) -> None:
    for event in events:
        response = client.post(
            "/api/internal/events", headers=service_headers(), json={"events": [event]}
        )
        assert response.status_code == 202, response.text


def _stored(db: Engine) -> dict[tuple[str, float], tuple[Any, ...]]:
    with db.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT conversation_id, rasa_ts, {STAMPS} FROM messages"
                " WHERE role = 'customer' AND rasa_ts IS NOT NULL"
            )
        )
        return {
            (cid, ts): (None if start is None else bool(start), next_ts, ms)
            for cid, ts, start, next_ts, ms in rows
        }


def _by_hand(db: Engine) -> dict[tuple[str, float], tuple[Any, ...]]:
    """The definitions of handoff/services/metrics/__init__.py, in plain Python."""
    with db.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT conversation_id, rasa_ts, role FROM messages"
                " WHERE role IN ('customer', 'bot') AND rasa_ts IS NOT NULL"
            )
        ).all()
    turns: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for cid, ts, role in rows:
        turns[cid].append((ts, role))
    expected: dict[tuple[str, float], tuple[Any, ...]] = {}
    for cid, found in turns.items():
        found.sort()
        customer = [ts for ts, role in found if role == "customer"]
        starts = [ts for i, ts in enumerate(customer) if i == 0 or ts - customer[i - 1] > 3600.0]
        for i, (ts, role) in enumerate(found):
            if role != "customer":
                continue
            nxt = found[i + 1] if i + 1 < len(found) else None
            ms = (nxt[0] - ts) * 1000.0 if nxt and nxt[1] == "bot" else None
            later = [s for s in starts if s > ts]
            next_ts = later[0] if ts in starts and later else None
            expected[(cid, ts)] = (ts in starts, next_ts, ms)
    return expected


@pytest.mark.parametrize("order", ["in order", "shuffled"])
def test_stamps_are_exact_whatever_the_arrival_order(
    app_client: TestClient, db: Engine, order: str
) -> None:
    events = _events()
    if order == "shuffled":
        random.Random(6).shuffle(events)
    _post(app_client, events)
    # A hand-off brings turns the event broker has not delivered (stored in one go).
    body = handoff_body(
        "wechat:o9",
        transcript=[
            {"role": "customer", "text": "hi", "timestamp": T + 50},
            {"role": "bot", "text": "Hello", "timestamp": T + 50.4},
            {"role": "customer", "text": "a person", "timestamp": T + 60},
        ],
    )
    response = app_client.post("/api/internal/handoffs", headers=service_headers(), json=body)
    assert response.status_code == 201, response.text
    stored = _stored(db)
    assert stored == _by_hand(db)
    assert stored[("telegram:7", T + 20)] == (False, None, 1250.0)
    assert stored[("telegram:7", T)] == (True, T + 4000, 500.0)
    assert stored[("webchat:s8", T + 3700)][0] is False
    assert stored[("wechat:o9", T + 60)] == (False, None, None)

    # Migration 0006 computes the same from the messages alone.
    with db.begin() as connection:
        connection.execute(
            text(
                "UPDATE messages SET session_start = NULL, next_session_at = NULL,"
                " next_session_ts = NULL, response_ms = NULL"
            )
        )
        for statement in _migration().BACKFILL:
            connection.exec_driver_sql(statement)
    assert _stored(db) == stored


def test_message_counts_rollup_is_the_messages_grouped(
    app_client: TestClient, db: Engine, make_agent: Callable[..., dict[str, str]]
) -> None:
    _post(app_client, _events())
    alice = make_agent("alice", skills=["billing"])
    body = handoff_body("telegram:7", transcript=[], intents=[])
    assert (
        app_client.post("/api/internal/handoffs", headers=service_headers(), json=body).status_code
        == 201
    )
    sent = app_client.post(
        "/api/conversations/telegram:7/messages", headers=alice, json={"text": "Here"}
    )
    assert sent.status_code in (200, 201), sent.text
    with db.connect() as connection:
        messages = connection.execute(
            text(
                "SELECT m.created_at, c.channel, m.role, m.intent, m.confidence FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id WHERE m.role <> 'activity'"
            )
        ).all()
        activity = connection.scalar(text("SELECT count(*) FROM messages WHERE role = 'activity'"))
    assert activity and any(role == "agent" for _, _, role, _, _ in messages)

    def as_utc(moment: Any) -> datetime:
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return bucket_of(moment)

    expected: Counter[tuple[datetime, str, str, str]] = Counter()
    confidence: dict[tuple[datetime, str, str, str], float] = defaultdict(float)
    for created, channel, role, intent, score in messages:
        key = (as_utc(created), channel, role, intent or "")
        expected[key] += 1
        confidence[key] += score or 0.0

    def rollup() -> dict[tuple[datetime, str, str, str], tuple[int, float]]:
        with db.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT bucket_start, channel, role, intent, messages, confidence_sum"
                    " FROM message_counts"
                )
            )
            return {
                (as_utc(b), channel, role, intent): (n, round(total, 6))
                for b, channel, role, intent, n, total in rows
            }

    kept = rollup()
    assert kept == {key: (n, round(confidence[key], 6)) for key, n in expected.items()}
    # 23:59:30 local and 00:00:10 local are in different quarter hours (and local days).
    assert len({key[0] for key in kept}) > 1
    # Migration 0006 fills the same rows from the messages.
    with db.begin() as connection:
        connection.execute(text("DELETE FROM message_counts"))
        module = _migration()
        connection.exec_driver_sql(
            module._COUNTS.format(bucket=module._BUCKET[connection.dialect.name])
        )
    assert rollup() == kept
