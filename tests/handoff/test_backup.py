"""``python -m handoff backup`` and ``restore``: a backup restored into a fresh database
holds every row, and the service runs on it; on SQLite (``.backup``) and PostgreSQL
(``pg_dump``/``pg_restore``)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from handoff.api.app import create_app
from handoff.db import sync_database_url
from handoff.settings import Settings
from tests.handoff.conftest import PG_DATABASE, POSTGRES_URL, Storage
from tests.handoff.helpers import ADMIN, bearer, handoff_body, service_headers, user_event

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MakeAgent = Callable[..., dict[str, str]]


@pytest.fixture
def fresh_database(storage: Storage, tmp_path: Path) -> Iterator[str]:
    """An empty database of the storage's kind (async URL)."""
    if storage.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'handoff.sqlite3'}"
        return
    name = f"{PG_DATABASE}_restore"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    yield (POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}").replace(
        "postgresql://", "postgresql+psycopg://"
    )
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _handoff(
    command: list[str], database_url: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HANDOFF_", "SLACK_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {"HANDOFF_DATABASE_URL": database_url, "BOT_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "-m", "handoff", *command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _everything(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted."""
    engine = create_engine(sync_database_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                table: sorted(
                    (tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))),
                    key=repr,
                )
                for table in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()


def test_backup_restored_into_a_fresh_database_holds_everything(
    app_client: TestClient,
    make_agent: MakeAgent,
    make_settings: Callable[..., Settings],
    storage: Storage,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    alice = make_agent("alice", skills=["billing"])
    cid = "telegram:5150"
    event = user_event(
        cid, "where is my parcel zz-backup", 1_770_000_000.0, intent="track_shipment"
    )
    assert (
        app_client.post(
            "/api/internal/events", headers=service_headers(), json={"events": [event]}
        ).status_code
        == 202
    )
    assert (
        app_client.post(
            "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid)
        ).status_code
        == 201
    )
    assert app_client.post(f"/api/conversations/{cid}/assign", headers=alice).status_code == 200
    note = app_client.post(
        f"/api/conversations/{cid}/notes", headers=alice, json={"text": "a note zz-backup"}
    )
    assert note.status_code == 201

    backup_file = tmp_path / "backups" / "handoff.backup"
    made = _handoff(["backup", str(backup_file)], storage.database_url, tmp_path)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert backup_file.stat().st_size > 0

    restored = _handoff(["restore", str(backup_file)], fresh_database, tmp_path)
    assert restored.returncode == 0, restored.stderr
    original = _everything(storage.database_url)
    assert original["messages"] and original["agents"] and original["conversations"]
    assert _everything(fresh_database) == original

    # A second restore into the now full database is refused, and changes nothing.
    again = _handoff(["restore", str(backup_file)], fresh_database, tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr
    assert _everything(fresh_database) == original
    forced = _handoff(["restore", "--force", str(backup_file)], fresh_database, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert _everything(fresh_database) == original

    # The service runs on the restored database: the same accounts and conversation.
    settings = make_settings(handoff_database_url=fresh_database, redis_url=None)
    with TestClient(create_app(settings)) as client:
        headers = bearer(client, *ADMIN)
        shown = client.get(f"/api/conversations/{cid}", headers=headers)
        assert shown.status_code == 200, shown.text
        assert "zz-backup" in shown.text
        assert bearer(client, "alice", "quiet-copper-kettle-17")


def test_backup_and_restore_refuse_what_is_not_there(storage: Storage, tmp_path: Path) -> None:
    missing = _handoff(["restore", str(tmp_path / "nope.backup")], storage.database_url, tmp_path)
    assert missing.returncode == 2 and "no backup" in missing.stderr
    nowhere = f"sqlite+aiosqlite:///{tmp_path / 'absent.sqlite3'}"
    refused = _handoff(["backup", str(tmp_path / "x.backup")], nowhere, tmp_path)
    assert refused.returncode == 2 and "no database" in refused.stderr
