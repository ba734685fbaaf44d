"""Backup and restore of the service's database (``python -m handoff backup|restore``).

PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot while the
service runs) and ``pg_restore`` (the PostgreSQL client tools of the server's
major version or newer must be on the PATH). SQLite: the online backup API
(``sqlite3.Connection.backup``), consistent while the service writes (WAL).
A restore goes into an empty database unless forced, then applies the
migrations, so an older backup comes back at the current schema. Backup files
hold customer data: they are written with mode 600.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import URL, create_engine, inspect
from sqlalchemy.engine import make_url

from handoff.db import migrate, sync_database_url
from handoff.errors import HandoffError


class BackupError(HandoffError):
    """A backup or restore could not be made (the message says why)."""


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment carrying it (not in argv)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from error
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(database_url: str, target: Path) -> None:
    """Writes a backup of ``database_url`` to ``target`` (mode 600).

    Raises:
        BackupError: the database or the tools are not there, or the dump failed.
    """
    url = make_url(sync_database_url(database_url))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    # Created empty with mode 600 first, so the data never sits in a readable file.
    target.touch(mode=0o600)
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        if not sqlite_file.is_file():
            raise BackupError(f"no database at {sqlite_file}")
        source = sqlite3.connect(sqlite_file)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    libpq, env = _libpq(url)
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), libpq], env)


def _is_empty(database_url: str) -> bool:
    engine = create_engine(sync_database_url(database_url))
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    """Restores the backup ``source`` into ``database_url``, then migrates it.

    Args:
        database_url: the database to fill (created for SQLite; must exist for PostgreSQL).
        source: a file :func:`backup` wrote.
        force: replace what the database holds (else it must be empty).

    Raises:
        BackupError: no such backup, a database that is not empty, or the restore failed.
    """
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    url = make_url(sync_database_url(database_url))
    sqlite_file = _sqlite_file(url)
    exists = sqlite_file is None or sqlite_file.is_file()
    if exists and not force and not _is_empty(database_url):
        raise BackupError("the target database is not empty; restore into a fresh one, or --force")
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(sqlite_file)
        try:
            backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
    else:
        libpq, env = _libpq(url)
        command = ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq]
        if force:
            command[1:1] = ["--clean", "--if-exists"]
        _run([*command, str(source)], env)
    migrate(database_url)
