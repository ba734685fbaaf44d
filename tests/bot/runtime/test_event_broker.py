"""The event broker: every tracker event reaches the handoff service, in order, Rasa never waits."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot import settings
from bot.runtime import event_broker
from bot.runtime.event_broker import HandoffEventBroker
from bot.runtime.serve import rasa_environment
from tests.support.handoff_api import TOKEN, Answer, HandoffApi, running_handoff_api
from tests.support.processes import free_port

ROOT = settings.PROJECT_ROOT


@pytest.fixture
def api() -> Iterator[HandoffApi]:
    with running_handoff_api() as api:
        yield api


def outbox_url() -> str:
    return f"sqlite:///{Path(tempfile.mkdtemp(prefix='stream-outbox-')) / 'rasa.db'}"


def broker(url: str, outbox: str | None = None, **options: float) -> HandoffEventBroker:
    return HandoffEventBroker(
        url=url, token=TOKEN, outbox_url=outbox or outbox_url(), max_backoff_s=0.2, **options
    )


def user(sender: str, index: int) -> dict:
    return {"sender_id": sender, "event": "user", "text": f"message {index}", "timestamp": index}


async def test_endpoints_yml_names_this_broker_and_it_reads_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOFF_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "from-the-environment")
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    monkeypatch.delenv("EVENT_BROKER_URL", raising=False)
    for name, value in rasa_environment(settings.load()).items():  # as `bot serve rasa`
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "event_broker")
    created = await EventBroker.create(config)
    assert isinstance(created, HandoffEventBroker)
    assert created._url == "http://127.0.0.1:1/api/internal/events"
    assert created._headers["Authorization"] == "Bearer from-the-environment"
    created.publish(user("telegram:1", 0))
    # The outbox is a table in the tracker store's own database.
    assert created.pending == 1
    with sqlite3.connect(tmp_path / "rasa.db") as db:
        assert db.execute("SELECT sender_id FROM handoff_outbox").fetchall() == [("telegram:1",)]
    await created.close()


async def test_tracker_events_arrive_with_their_conversation_and_the_token(
    api: HandoffApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", TOKEN)
    config = EndpointConfig(url=api.url, type="bot.runtime.event_broker.HandoffEventBroker")
    created = await EventBroker.create(config)
    assert isinstance(created, HandoffEventBroker)
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = InMemoryTrackerStore(domain, event_broker=created)
    tracker = DialogueStateTracker("telegram:42", domain.slots)
    tracker.update(UserUttered("转人工", {"name": "request_human", "confidence": 0.97}))
    tracker.update(ActionExecuted("action_handoff"))
    tracker.update(BotUttered("好的，正在为您转接人工客服", metadata={"utter_action": "utter_x"}))
    tracker.update(ConversationPaused())
    await store.save(tracker)
    await created.close()

    events = api.events()
    assert [(e["sender_id"], e["event"]) for e in events] == [
        ("telegram:42", "user"),
        ("telegram:42", "action"),
        ("telegram:42", "bot"),
        ("telegram:42", "pause"),
    ]
    assert events[0]["text"] == "转人工"
    assert events[0]["parse_data"]["intent"]["name"] == "request_human"
    [request] = [r for r in api.requests if r.path == "/api/internal/events"]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_publish_returns_at_once_and_events_are_batched(api: HandoffApi) -> None:
    events_broker = broker(api.url, batch_size=50)
    started = time.perf_counter()
    for index in range(500):
        events_broker.publish(user(f"webchat:{index % 7}", index))
    assert time.perf_counter() - started < 1.0  # a local commit each, never the service
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()] == list(range(500))
    batches = api.received("/api/internal/events")
    assert 10 <= len(batches) < 500
    assert all(len(batch["events"]) <= 50 for batch in batches)


async def test_a_service_that_is_down_gets_the_same_events_later_in_order(
    api: HandoffApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.answer_next(Answer(503), Answer(502), Answer(500, delay_s=0.1))
    events_broker = broker(api.url, batch_size=3)
    for index in range(10):
        events_broker.publish(user("wechat:o1", index))
        await asyncio.sleep(0.01)
    await asyncio.to_thread(api.wait_for, lambda: len(api.events()) == 10)
    assert [e["timestamp"] for e in api.events()] == list(range(10))
    # The stand-in records a batch before the broker has read the answer to it.
    for _ in range(100):
        if events_broker.delivered == 10:
            break
        await asyncio.sleep(0.02)
    assert events_broker.delivered == 10 and events_broker.dropped == 0
    assert "retrying" in caplog.text
    await events_broker.close()


async def test_a_slow_service_never_slows_publishing(api: HandoffApi) -> None:
    api.answer_next(Answer(202, delay_s=1.0))  # the first batch hangs a second
    events_broker = broker(api.url)
    events_broker.publish(user("telegram:1", 0))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    for index in range(1, 100):
        events_broker.publish(user("telegram:1", index))
    assert time.perf_counter() - started < 0.5  # the first batch still hangs
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()][-99:] == list(range(1, 100))


async def test_events_for_an_unreachable_service_wait_in_the_outbox_across_a_restart(
    api: HandoffApi, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = outbox_url()
    events_broker = broker(f"http://127.0.0.1:{free_port()}", outbox, close_timeout_s=0.5)
    for index in range(25):
        events_broker.publish(user("telegram:1", index))
    assert events_broker.pending == 25
    await events_broker.close()  # Rasa stops while the service is away
    assert "25 events wait in the outbox" in caplog.text
    assert events_broker.dropped == 0

    restarted = broker(api.url, outbox)
    restarted.start()  # as at Rasa's start-up, before anything new is published
    await asyncio.to_thread(api.wait_for, lambda: len(api.events()) == 25)
    restarted.publish(user("telegram:1", 25))
    await restarted.close()
    assert [e["timestamp"] for e in api.events()] == list(range(26))
    assert restarted.pending == 0


async def test_a_batch_the_service_can_never_accept_does_not_block_the_rest(
    api: HandoffApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.answer_next(Answer(422, {"detail": "bad event"}))
    events_broker = broker(api.url, batch_size=1)
    for index in range(3):
        events_broker.publish(user("telegram:1", index))
    await events_broker.close()
    assert [e["timestamp"] for e in api.events()] == [1, 2]
    assert events_broker.dropped == 1
    assert "refused 1 events (HTTP 422)" in caplog.text


async def test_a_wrong_token_is_retried_not_dropped(api: HandoffApi) -> None:
    events_broker = HandoffEventBroker(
        url=api.url, token="wrong", outbox_url=outbox_url(), max_backoff_s=0.1, close_timeout_s=0.5
    )
    events_broker.publish(user("telegram:1", 0))
    await asyncio.sleep(0.3)
    assert api.events() == [] and events_broker.pending == 1
    await events_broker.close()


async def test_after_close_events_are_kept_for_the_next_start(api: HandoffApi) -> None:
    outbox = outbox_url()
    events_broker = broker(api.url, outbox)
    await events_broker.close()
    events_broker.publish(user("telegram:1", 0))
    assert events_broker.pending == 1 and events_broker.dropped == 0
    assert api.events() == []
    restarted = broker(api.url, outbox)
    await restarted.close()
    assert [e["timestamp"] for e in api.events()] == [0]


class CountingBroker(HandoffEventBroker):
    """The real broker, counting the outbox writes Rasa's tracker store asks for."""

    writes: list[int]

    def publish_many(self, events: list[dict]) -> None:
        self.writes = [*getattr(self, "writes", []), len(events)]
        super().publish_many(events)


async def test_a_tracker_save_is_one_outbox_write_in_order(api: HandoffApi) -> None:
    event_broker.install()  # as rasa_main does
    events_broker = CountingBroker(url=api.url, token=TOKEN, outbox_url=outbox_url())
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = InMemoryTrackerStore(domain, event_broker=events_broker)
    tracker = DialogueStateTracker("telegram:77", domain.slots)
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 0.9}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered("Hello!"))
    await store.save(tracker)
    tracker.update(UserUttered("bye", {"name": "goodbye", "confidence": 0.9}))
    await store.save(tracker)
    await events_broker.close()
    assert events_broker.writes == [3, 1]
    assert [(e["event"], e.get("text")) for e in api.events()] == [
        ("user", "hi"),
        ("action", None),
        ("bot", "Hello!"),
        ("user", "bye"),
    ]
