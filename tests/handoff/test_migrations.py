"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from handoff.db import migrate, sync_database_url
from handoff.models import Base
from tests.handoff.conftest import PG_DATABASE, POSTGRES_URL

PG_MIGRATIONS_DB = PG_DATABASE + "_migrations"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_MIGRATIONS_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_MIGRATIONS_DB}")
    yield (POSTGRES_URL.rsplit("/", 1)[0] + f"/{PG_MIGRATIONS_DB}").replace(
        "postgresql://", "postgresql+psycopg://"
    )
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_MIGRATIONS_DB} WITH (FORCE)")


def test_migrations_apply_on_an_empty_database_and_match_the_models(empty_database: str) -> None:
    migrate(empty_database)
    migrate(empty_database)  # a second start changes nothing
    engine = create_engine(sync_database_url(empty_database))
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables >= {
                "agents",
                "conversations",
                "messages",
                "handoff_records",
                "csat_ratings",
                "canned_responses",
                "flags",
                "alembic_version",
            }
            indexes = {ix["name"] for ix in inspect(connection).get_indexes("conversations")}
            assert "ix_conversations_status_waiting" in indexes
            message_indexes = {ix["name"] for ix in inspect(connection).get_indexes("messages")}
            assert "ix_messages_conversation_created" in message_indexes
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert diff == []
    finally:
        engine.dispose()


def test_0006_fills_the_metrics_columns_of_stored_messages(empty_database: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from handoff.db import alembic_config

    command.upgrade(alembic_config(empty_database), "0005")
    engine = create_engine(sync_database_url(empty_database))
    t0 = 1772380800.0  # 2026-03-01 16:00:00Z, local midnight in Asia/Shanghai
    turns = [  # role, seconds after t0, intent
        ("customer", 0.0, "greet"),
        ("bot", 0.5, None),
        ("customer", 10.0, "nlu_fallback"),
        ("customer", 4000.0, "greet"),  # a new session
        ("bot", 4001.0, None),
        ("activity", 4002.0, None),
    ]
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO conversations (id, channel, status, urgent, context,"
                    " wait_alerted, unread, csat_pending, csat_awaiting_comment,"
                    " last_activity_at, created_at) VALUES ('wechat:o1', 'wechat', 'bot',"
                    " false, '{}', false, 0, false, false, :at, :at)"
                ),
                {"at": datetime.fromtimestamp(t0, UTC)},
            )
            for role, offset, intent in turns:
                connection.execute(
                    text(
                        "INSERT INTO messages (conversation_id, role, text, private, intent,"
                        " confidence, rasa_ts, created_at) VALUES ('wechat:o1', :role, 'x',"
                        " false, :intent, :confidence, :ts, :at)"
                    ),
                    {
                        "role": role,
                        "intent": intent,
                        "confidence": 0.5 if intent else None,
                        "ts": t0 + offset if role != "activity" else None,
                        "at": datetime.fromtimestamp(t0 + offset, UTC),
                    },
                )
        migrate(empty_database)
        with engine.connect() as connection:
            stamps = connection.execute(
                text(
                    "SELECT rasa_ts, session_start, next_session_ts, response_ms FROM messages"
                    " WHERE role = 'customer' ORDER BY rasa_ts"
                )
            ).all()
            counts = connection.execute(
                text(
                    "SELECT channel, role, intent, SUM(messages), SUM(confidence_count)"
                    " FROM message_counts GROUP BY channel, role, intent ORDER BY role, intent"
                )
            ).all()
            buckets = connection.execute(
                text("SELECT DISTINCT bucket_start FROM message_counts")
            ).scalars()
            bucket_starts = sorted(
                (b if isinstance(b, datetime) else datetime.fromisoformat(b)).replace(tzinfo=None)
                for b in buckets
            )
    finally:
        engine.dispose()
    assert [(ts - t0, bool(start), nxt and nxt - t0, ms) for ts, start, nxt, ms in stamps] == [
        (0.0, True, 4000.0, 500.0),
        (10.0, False, None, None),
        (4000.0, True, None, 1000.0),
    ]
    assert [tuple(row) for row in counts] == [
        ("wechat", "bot", "", 2, 0),
        ("wechat", "customer", "greet", 2, 2),
        ("wechat", "customer", "nlu_fallback", 1, 1),
    ]
    # 16:00 and 17:00 UTC quarter hours (4000 s later is 17:06:40).
    assert bucket_starts == [datetime(2026, 3, 1, 16, 0), datetime(2026, 3, 1, 17, 0)]
