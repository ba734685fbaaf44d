"""The Rasa side of the customer-rights and retention tests, built by Rasa's own code.

Rasa 3.6 lives in the Rasa environment (``.venv``); the service's tests run in
``.venv-handoff``. :func:`seed_trackers` runs ``tests/support/rasa_tracker_seed.py``
there, so the tracker store's ``events`` table is written by Rasa's
``SQLTrackerStore`` and the exported labels by ``bot retrain``'s own code. The
fixtures (import them into a test module) place the tracker store, the model
registry and the annotations file, and pin the service's clock.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from handoff.db import sync_database_url
from handoff.models import base as models_base
from handoff.settings import Settings
from tests.handoff.conftest import Storage

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv" / "bin" / "python"


def tracker_store_spec(url: str) -> dict[str, Any]:
    """``SQLTrackerStore``'s arguments for a database URL (SQLite file or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {
        "dialect": "postgresql",
        "db": parsed.database,
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "username": parsed.username or "postgres",
    }


def seed_trackers(spec: dict[str, Any], trackers: dict[str, list[dict[str, Any]]]) -> None:
    """Saves one tracker per sender with these events (Rasa's event dicts)."""
    events = {
        sender: [{k: v for k, v in e.items() if k != "sender_id"} for e in evs]
        for sender, evs in trackers.items()
    }
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "tests.support.rasa_tracker_seed"],
        input=json.dumps({**spec, "trackers": events}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


class Clock:
    """The service's pinned now."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def at(self, ts: float) -> None:
        self.now = datetime.fromtimestamp(ts, UTC)


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Pins ``handoff.models.base.utcnow``."""
    pinned = Clock()

    class PinnedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return pinned.now.astimezone(tz) if tz else pinned.now.replace(tzinfo=None)

    monkeypatch.setattr(models_base, "datetime", PinnedDatetime)
    yield pinned


@dataclass
class RasaSide:
    """Rasa's tracker store, the model registry and the annotations file of one test."""

    tracker_url: str
    registry_url: str
    labels_file: Path


@pytest.fixture(name="rasa_side")
def rasa_side_fixture(storage: Storage, tmp_path: Path) -> RasaSide:
    """SQLite files, or the PostgreSQL database the service uses (``DATABASE_URL``
    shared, as in the scaled-out setup) with Rasa's tables dropped first."""
    labels = tmp_path / "checkout" / "data" / "nlu" / "annotations.yml"
    if storage.name == "sqlite":
        return RasaSide(
            f"sqlite:///{tmp_path / 'rasa.db'}", f"sqlite:///{tmp_path / 'registry.db'}", labels
        )
    engine = create_engine(sync_database_url(storage.database_url))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS events, bot_model_versions"))
    engine.dispose()
    return RasaSide(storage.database_url, storage.database_url, labels)


@pytest.fixture(name="settings")
def settings_fixture(make_settings: Callable[..., Settings], rasa_side: RasaSide) -> Settings:
    """Test settings pointing at the test's Rasa side."""
    return make_settings(
        handoff_tracker_store_url=rasa_side.tracker_url,
        handoff_registry_url=rasa_side.registry_url,
        handoff_labels_file=rasa_side.labels_file,
    )


def held_texts(db: Engine, rasa_side: RasaSide) -> str:
    """Every value of every table of the service's database, the tracker store and the
    registry, and the annotations file."""
    found: list[str] = []
    urls = {sync_database_url(u) for u in (rasa_side.tracker_url, rasa_side.registry_url)}
    engines = [db] + [
        create_engine(url) for url in urls if url != db.url.render_as_string(hide_password=False)
    ]
    for engine in engines:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    found.append(f"{table}: " + json.dumps([str(v) for v in row]))
    for extra in engines[1:]:
        extra.dispose()
    if rasa_side.labels_file.is_file():
        found.append("annotations.yml: " + rasa_side.labels_file.read_text(encoding="utf-8"))
    return "\n".join(found)
