"""The connectors' database: SQLite in WAL mode with pooled connections, shared by threads."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from connectors.database import create_engine, run_quick


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


async def test_quick_calls_run_on_the_loop_for_a_file_and_in_a_thread_otherwise() -> None:
    loop_thread = threading.get_ident()
    assert await run_quick(True, threading.get_ident) == loop_thread
    assert await run_quick(False, threading.get_ident) != loop_thread
