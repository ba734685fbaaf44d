"""The storage Rasa is started with: SQLite by default, PostgreSQL and Redis when set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot import settings
from bot.runtime.serve import rasa_command, rasa_environment
from tests.support.postgres import throwaway_database

ROOT = settings.PROJECT_ROOT
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Applies settings to the process environment as `bot serve rasa` would."""

    def apply(**values: str) -> settings.Settings:
        monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
        monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
        for name in ("DATABASE_URL", "REDIS_URL", "RASA_AUTH_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        loaded = settings.load()
        for name, value in rasa_environment(loaded).items():
            monkeypatch.setenv(name, value)
        return loaded

    return apply


@pytest.fixture
def postgres_database() -> Iterator[str]:
    with throwaway_database("rasa_test") as url:
        yield url


def _stores() -> tuple[TrackerStore, LockStore]:
    endpoints = str(ROOT / "endpoints.yml")
    tracker_store = TrackerStore.create(read_endpoint_config(endpoints, "tracker_store"), DOMAIN)
    lock_store = LockStore.create(read_endpoint_config(endpoints, "lock_store"))
    return tracker_store, lock_store


def _round_trip(tracker_store: TrackerStore) -> DialogueStateTracker:
    sender = f"telegram:{uuid.uuid4().int % 10**9}"
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(UserUttered("订单20241105001到哪了", {"name": "track_shipment"}))
    tracker.update(SlotSet("order_id", "20241105001"))
    asyncio.run(tracker_store.save(tracker))
    loaded = asyncio.run(tracker_store.retrieve(sender))
    assert loaded is not None
    return loaded


def test_embedded_default_is_sqlite_and_in_process_locks(environment, tmp_path: Path) -> None:
    environment()
    tracker_store, lock_store = _stores()
    assert isinstance(tracker_store, SQLTrackerStore)
    assert isinstance(lock_store, InMemoryLockStore)
    loaded = _round_trip(tracker_store)
    assert loaded.get_slot("order_id") == "20241105001"
    assert (tmp_path / "rasa.db").is_file()


def test_database_url_selects_postgresql(environment, postgres_database: str) -> None:
    environment(DATABASE_URL=postgres_database)
    tracker_store, _ = _stores()
    loaded = _round_trip(tracker_store)
    assert loaded.latest_message.text == "订单20241105001到哪了"
    engine = sa.create_engine(postgres_database)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM events")).scalar() >= 2
    engine.dispose()
    tracker_store.engine.dispose()


def test_redis_url_selects_the_redis_lock_store(environment) -> None:
    environment(REDIS_URL=REDIS_URL)
    _, lock_store = _stores()
    assert isinstance(lock_store, RedisLockStore)
    conversation = f"webchat:{uuid.uuid4().hex}"

    async def hold_lock() -> int:
        async with lock_store.lock(conversation):
            # While held, the lock lives in Redis for every replica to see.
            return len(redis.Redis.from_url(REDIS_URL).keys(f"*{conversation}*"))

    assert asyncio.run(hold_lock()) == 1
    assert redis.Redis.from_url(REDIS_URL).keys(f"*{conversation}*") == []


def test_auth_token_is_demanded_only_when_set(environment) -> None:
    assert "--auth-token" not in rasa_command(environment())
    command = rasa_command(environment(RASA_AUTH_TOKEN="s3cret"))
    assert command[command.index("--auth-token") + 1] == "s3cret"
    assert "--enable-api" in command


def test_only_configured_channels_are_enabled(tmp_path: Path) -> None:
    from bot.runtime.serve import enabled_credentials

    source = tmp_path / "credentials.yml"
    source.write_text(
        "rest:\n"
        "connectors.telegram.TelegramInput:\n"
        "  token: ${TELEGRAM_BOT_TOKEN}\n"
        "  api_base_url: ${TELEGRAM_API_BASE_URL:-https://api.telegram.org}\n"
        "connectors.wechat.WeChatInput:\n"
        "  token: ${WECHAT_TOKEN}\n"
        "  aes_key: ${WECHAT_AES_KEY:-}\n"
    )
    assert enabled_credentials(source, {}) == {"rest": None}
    enabled = enabled_credentials(source, {"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert enabled["connectors.telegram.TelegramInput"] == {
        "token": "123:abc",
        "api_base_url": "https://api.telegram.org",
    }
    assert "connectors.wechat.WeChatInput" not in enabled
    enabled = enabled_credentials(source, {"WECHAT_TOKEN": "t", "WECHAT_AES_KEY": "k" * 43})
    assert enabled["connectors.wechat.WeChatInput"] == {"token": "t", "aes_key": "k" * 43}
