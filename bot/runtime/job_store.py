"""Where the retrain button's jobs are kept: ``bot_retrain_jobs``, next to the registry.

In ``DATABASE_URL`` (the embedded ``registry.db`` otherwise), so that with
several Rasa replicas any of them answers the trainers' page about a job
another one runs, and only one job runs at a time across all of them: the
job number is the primary key, so two replicas starting job N+1 at once
cannot both succeed.

The replica running a job writes its state at each line of output and at
least every :data:`HEARTBEAT_S` seconds; a job still ``running`` whose
replica has been silent for :data:`STALE_S` seconds is reported as
``failed`` (the replica stopped).
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings
from bot.training.registry import database_url

HEARTBEAT_S = 10.0
STALE_S = 60.0

_metadata = sa.MetaData()
jobs_table = sa.Table(
    "bot_retrain_jobs",
    _metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("replica", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("exit_code", sa.Integer, nullable=True),
    sa.Column("log", sa.Text, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)


class NumberTaken(Exception):
    """Another replica started a job with that number first."""


class JobStore:
    """Reads and writes ``bot_retrain_jobs``; jobs travel as the page's JSON."""

    def __init__(self, url: str) -> None:
        """Connects lazily to ``url`` and creates the table when missing."""
        self._engine = sa.create_engine(url, future=True)
        _metadata.create_all(self._engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStore:
        """The store in the registry's database."""
        return cls(database_url(settings))

    def close(self) -> None:
        """Releases the connections."""
        self._engine.dispose()

    def latest(self) -> dict[str, Any] | None:
        """The newest job as the page's JSON (a silent ``running`` one as ``failed``)."""
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(jobs_table).order_by(jobs_table.c.number.desc()).limit(1)
            ).first()
        if row is None:
            return None
        job = dict(row._mapping)
        job["log"] = json.loads(job["log"])
        heartbeat = job.pop("heartbeat_at")
        if job["state"] == "running" and time.time() - heartbeat > STALE_S:
            job["state"] = "failed"
            job["log"].append(f"error: replica {job['replica']} stopped while running it")
        return job

    def insert(self, job: dict[str, Any], *, replica: str) -> None:
        """Stores a new job.

        Raises:
            NumberTaken: A job with its number exists (another replica was first).
        """
        try:
            with self._engine.begin() as connection:
                connection.execute(sa.insert(jobs_table).values(**self._row(job), replica=replica))
        except IntegrityError as error:
            raise NumberTaken(str(job["number"])) from error

    def save(self, job: dict[str, Any]) -> None:
        """Writes a job's state, stage, log and outcome (and its heartbeat)."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(jobs_table)
                .where(jobs_table.c.number == job["number"])
                .values(**self._row(job))
            )

    @staticmethod
    def _row(job: dict[str, Any]) -> dict[str, Any]:
        names = ("number", "requested_by", "state", "stage", "started_at", "finished_at")
        return {name: job[name] for name in names} | {
            "exit_code": job["exit_code"],
            "log": json.dumps(job["log"], ensure_ascii=False),
            "heartbeat_at": time.time(),
        }
