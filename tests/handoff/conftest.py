"""Fixtures of the handoff service tests: storage (SQLite, or PostgreSQL + Redis),
a stand-in Rasa, and the app under FastAPI's TestClient."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from handoff import security
from handoff.api.app import create_app
from handoff.db import migrate, sync_database_url
from handoff.models import Base
from handoff.settings import Settings, load_settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import ADMIN, AGENT_PASSWORD, RASA_TOKEN, SERVICE_TOKEN, bearer
from tests.support.servers import serve_in_thread

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# One database per checkout, so engineers testing side by side do not drop each other's.
PG_DATABASE = os.environ.get(
    "TEST_HANDOFF_PG_DATABASE",
    "handoff_test_" + hashlib.sha1(str(Path(__file__).resolve()).encode()).hexdigest()[:8],
)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the library's test profile: same algorithm, a fraction of the cost."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@dataclass
class Storage:
    """Where one test's service keeps its state."""

    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh ``handoff_test`` database, migrated once for the session."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    migrate(url.replace("postgresql://", "postgresql+psycopg://"))
    yield url.replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres+redis"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """SQLite with in-process live events and limiter, or PostgreSQL with Redis."""
    prefix = f"handoff-test-{uuid.uuid4().hex[:8]}:"
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'handoff.sqlite3'}"
        migrate(url)
        yield Storage("sqlite", url, None, prefix)
        return
    url = request.getfixturevalue("postgres_database")
    engine = create_engine(sync_database_url(url))
    with engine.begin() as connection:
        names = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield Storage("postgres+redis", url, REDIS_URL, prefix)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def fake_rasa() -> Iterator[tuple[FakeRasa, str]]:
    """The stand-in Rasa and its base URL."""
    fake = FakeRasa(service_token=SERVICE_TOKEN, rasa_token=RASA_TOKEN)
    with serve_in_thread(fake.app(), what="fake Rasa") as url:
        yield fake, url


@pytest.fixture
def make_settings(
    storage: Storage, fake_rasa: tuple[FakeRasa, str], tmp_path: Path
) -> Callable[..., Settings]:
    """Settings for a test app; keyword arguments override."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "_env_file": None,
            "handoff_env": "development",
            "handoff_database_url": storage.database_url,
            "database_url": None,
            "redis_url": storage.redis_url,
            "handoff_redis_prefix": storage.redis_prefix,
            "rasa_url": fake_rasa[1],
            "rasa_auth_token": RASA_TOKEN,
            "handoff_service_token": SERVICE_TOKEN,
            "handoff_secret_key": "k" * 40,
            "handoff_bootstrap_admin": f"{ADMIN[0]}:{ADMIN[1]}",
            "handoff_business_hours": "00:00-23:59",
            "shop_api_url": None,
            "slack_bot_token": None,
            "slack_signing_secret": None,
            "slack_channel": None,
            "bot_var_dir": tmp_path / "var",
            "handoff_sweep_interval_s": 3600,
        }
        values.update(overrides)
        return load_settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default test settings."""
    return make_settings()


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    """The app with its lifespan running (bootstrap admin ``root``)."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def db(settings: Settings) -> Iterator[Engine]:
    """A synchronous engine on the test database, for looking behind the API."""
    engine = create_engine(sync_database_url(settings.database))
    yield engine
    engine.dispose()


@pytest.fixture
def admin_headers(app_client: TestClient) -> dict[str, str]:
    """Bearer header of the bootstrap admin."""
    return bearer(app_client, *ADMIN)


@pytest.fixture
def make_agent(
    app_client: TestClient, admin_headers: dict[str, str]
) -> Callable[..., dict[str, str]]:
    """Creates an agent through the API; returns its bearer header."""

    def create(
        username: str,
        *,
        role: str = "agent",
        skills: list[str] | None = None,
        capacity: int = 5,
        online: bool = False,
    ) -> dict[str, str]:
        password = AGENT_PASSWORD
        response = app_client.post(
            "/api/agents",
            headers=admin_headers,
            json={
                "username": username,
                "password": password,
                "role": role,
                "skills": skills or [],
                "capacity": capacity,
            },
        )
        assert response.status_code == 201, response.text
        headers = bearer(app_client, username, password)
        if online:
            presence = app_client.post("/api/me/presence", headers=headers, json={"online": True})
            assert presence.status_code == 200
        return headers

    return create
