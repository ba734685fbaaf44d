"""Poison never blocks the event stream: refused events are dropped alone, the rest arrive.

Against the scripted stand-in for the answers, and against the real handoff
service (``python -m handoff`` on SQLite) for the whole path.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.runtime.event_broker import HandoffEventBroker
from tests.support.handoff_api import TOKEN, Answer, HandoffApi, running_handoff_api
from tests.support.processes import (
    HANDOFF_ADMIN,
    HandoffService,
    base_env,
    free_port,
    handoff_process,
    wait_until,
)


@pytest.fixture
def api() -> Iterator[HandoffApi]:
    with running_handoff_api() as api:
        yield api


def broker(url: str, token: str = TOKEN, **options: Any) -> HandoffEventBroker:
    outbox = Path(tempfile.mkdtemp(prefix="stream-outbox-")) / "rasa.db"
    return HandoffEventBroker(
        url=url, token=token, outbox_url=f"sqlite:///{outbox}", max_backoff_s=0.2, **options
    )


def user(sender: str, ts: float, text: str = "hello") -> dict[str, Any]:
    return {"sender_id": sender, "event": "user", "text": text, "timestamp": ts}


@pytest.mark.parametrize("status", [400, 409, 413, 422])
async def test_a_refused_batch_is_dropped_not_retried(api: HandoffApi, status: int) -> None:
    api.answer_next(Answer(status, {"detail": "refused"}))
    events_broker = broker(api.url, batch_size=1, close_timeout_s=2)
    for index in range(3):
        events_broker.publish(user("telegram:1", index))
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()] == [1, 2]
    assert events_broker.dropped == 1 and events_broker.delivered == 2


@pytest.mark.parametrize("status", [429, 408, 503])
async def test_throttling_and_server_errors_are_retried(api: HandoffApi, status: int) -> None:
    api.answer_next(Answer(status), Answer(status))
    events_broker = broker(api.url, batch_size=1, close_timeout_s=5)
    for index in range(3):
        events_broker.publish(user("telegram:1", index))
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()] == [0, 1, 2]
    assert events_broker.dropped == 0


async def test_only_the_events_a_422_names_count_as_dropped(api: HandoffApi) -> None:
    api.answer_next(Answer(422, {"accepted": 2, "stored": 2, "refused": [{"index": 0}]}))
    events_broker = broker(api.url)
    for index in range(3):
        events_broker.publish(user("telegram:1", index))
    await events_broker.close()
    assert events_broker.dropped == 1 and events_broker.delivered == 2


async def test_an_event_json_cannot_carry_is_dropped_alone(api: HandoffApi) -> None:
    events_broker = broker(api.url)
    events_broker.publish(user("telegram:1", 0))
    events_broker.publish(user("telegram:1", float("nan")))
    events_broker.publish(user("telegram:1", 2, text="lone \ud800 surrogate"))
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()] == [0, 2]
    assert api.events()[1]["text"] == "lone \ud800 surrogate"
    assert events_broker.dropped == 1 and events_broker.delivered == 2


@pytest.fixture(scope="module")
def handoff_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[HandoffService, Path]]:
    """The real handoff service on SQLite: its URL and database file."""
    var_dir = tmp_path_factory.mktemp("handoff")
    port = free_port()
    token = secrets.token_urlsafe(24)
    env = base_env(var_dir, HANDOFF_SERVICE_TOKEN=token)
    process = handoff_process(var_dir, env, port, f"http://127.0.0.1:{free_port()}")
    service = HandoffService(url=f"http://127.0.0.1:{port}", token=token, admin=HANDOFF_ADMIN)
    process.start()
    try:

        def ready() -> bool:
            process.assert_running()
            return httpx.get(f"{service.url}/health", timeout=2).status_code == 200

        wait_until(ready, timeout_s=120, what="handoff service")
        yield service, var_dir / "handoff.sqlite3"
    finally:
        process.stop()


async def test_a_poisoned_event_does_not_hold_back_other_conversations(
    handoff_service: tuple[HandoffService, Path],
) -> None:
    service, database = handoff_service
    events_broker = broker(service.url, token=service.token, batch_size=50, close_timeout_s=10)
    events_broker.publish(user("telegram:100", 1_765_000_000.0, text="poison \x00 here"))
    events_broker.publish(user("telegram:100", 1e20, text="a timestamp too far"))
    events_broker.publish({**user("wechat:o200", 1_765_000_001.0), "metadata": ["a", "list"]})
    for index in range(5):
        events_broker.publish(user(f"webchat:s{index}", 1_765_000_010.0 + index, text="fine"))
    events_broker.publish(user("telegram:100", 1_765_000_020.0, text="clean again"))
    await asyncio.sleep(0)
    await events_broker.close()
    assert events_broker.dropped == 3 and events_broker.delivered == 6
    with sqlite3.connect(database) as connection:
        stored = connection.execute(
            "SELECT conversation_id, text FROM messages WHERE role = 'customer' ORDER BY id"
        ).fetchall()
        letters = connection.execute("SELECT kind, reason, payload FROM dead_letters").fetchall()
    assert stored == [(f"webchat:s{i}", "fine") for i in range(5)] + [
        ("telegram:100", "clean again")
    ]
    assert len(letters) == 3
    assert any("\\u0000" in payload for _, _, payload in letters)
