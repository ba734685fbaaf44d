"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
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
