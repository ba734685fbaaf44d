"""The connectors' database: SQLite in WAL mode with pooled connections, shared by threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.database import create_engine, is_local, run_quick
from connectors.dedupe import PRUNE_EVERY_S, REMEMBER_FOR_S, SqlSeenMessages
from tests.support.postgres import throwaway_database


def test_a_sqlite_file_is_in_wal_mode_without_a_flush_per_commit(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # 1 = NORMAL: in WAL mode a commit does not wait for the disk.
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert (tmp_path / "c.db-wal").exists()


def test_connections_are_kept_open_between_uses(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as connection:
        first = connection.connection.dbapi_connection
    with engine.connect() as connection:
        assert connection.connection.dbapi_connection is first


def test_other_databases_are_left_as_sqlalchemy_makes_them(tmp_path: Path) -> None:
    assert isinstance(create_engine("sqlite://").pool, sa.pool.SingletonThreadPool)
    url = "postgresql://user@127.0.0.1/none"
    assert isinstance(create_engine(url).pool, sa.pool.QueuePool)


async def test_claims_from_many_tasks_and_two_stores_succeed_once(tmp_path: Path) -> None:
    """Two stores on one file (as two processes would be), eight claims at once per id."""
    url = f"sqlite:///{tmp_path / 'seen.db'}"
    stores = [SqlSeenMessages(url), SqlSeenMessages(url)]
    for n in range(5):
        claims = [stores[i % 2].claim(f"wechat:{n}") for i in range(8)]
        assert sorted(await asyncio.gather(*claims)) == [False] * 7 + [True]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("connectors") as url:
        yield url


async def test_quick_calls_run_on_the_loop_for_a_file_and_in_a_thread_otherwise() -> None:
    loop_thread = threading.get_ident()
    assert await run_quick(True, threading.get_ident) == loop_thread
    assert await run_quick(False, threading.get_ident) != loop_thread


def _statement_threads(store: SqlSeenMessages) -> list[int]:
    threads: list[int] = []

    def record(*_args: object) -> None:
        threads.append(threading.get_ident())

    sa.event.listen(store._engine, "before_cursor_execute", record)
    return threads


async def test_sqlite_claims_run_on_the_loop(tmp_path: Path) -> None:
    store = SqlSeenMessages(f"sqlite:///{tmp_path / 'seen.db'}")
    threads = _statement_threads(store)
    assert await store.claim("telegram:1") is True
    assert await store.claim("telegram:1") is False
    assert threads and set(threads) == {threading.get_ident()}


async def test_postgresql_claims_run_in_threads_and_succeed_once(postgres_url: str) -> None:
    stores = [SqlSeenMessages(postgres_url), SqlSeenMessages(postgres_url)]
    assert not is_local(stores[0]._engine)
    threads = _statement_threads(stores[0])
    for n in range(3):
        claims = [stores[i % 2].claim(f"wechat:{n}") for i in range(8)]
        assert sorted(await asyncio.gather(*claims)) == [False] * 7 + [True]
    assert threads and threading.get_ident() not in threads
    for store in stores:
        store._engine.dispose()


async def test_expired_ids_are_pruned_now_and_then_not_on_every_claim(tmp_path: Path) -> None:
    store = SqlSeenMessages(f"sqlite:///{tmp_path / 'seen.db'}")
    table = SqlSeenMessages._table
    expired = time.time() - REMEMBER_FOR_S - 1

    def add_expired(key: str) -> None:
        with store._engine.begin() as connection:
            connection.execute(table.insert().values(key=key, seen_at=expired))

    def keys() -> set[str]:
        with store._engine.connect() as connection:
            return set(connection.execute(sa.select(table.c.key)).scalars())

    add_expired("old:1")
    assert await store.claim("new:1")
    assert keys() == {"new:1"}  # the first claim prunes
    add_expired("old:2")
    assert await store.claim("new:2")
    assert keys() == {"new:1", "new:2", "old:2"}  # not again within PRUNE_EVERY_S
    store._pruned_at -= PRUNE_EVERY_S
    assert await store.claim("new:3")
    assert keys() == {"new:1", "new:2", "new:3"}
    # An expired id is one a platform stopped retrying long ago; it may be claimed again.
    add_expired("old:3")
    store._pruned_at -= PRUNE_EVERY_S
    assert await store.claim("old:3")
