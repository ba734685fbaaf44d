"""The model registry: every model ever promoted, and which one is served.

It lives in the same database as Rasa's tracker store (``DATABASE_URL``,
PostgreSQL when scaled out, so every operator and replica sees one history
and two retrains cannot interleave their writes), or in an embedded SQLite
file (``<BOT_VAR_DIR>/registry.db``) when nothing is set, like the rest of
the stack. The table is ``bot_model_versions``; Rasa's own tables are left
alone.

The served model is the newest version not rolled back; rolling back marks
the served version and so serves the one before it.

Every Rasa replica reports here which version it serves
(``bot_model_replicas``, see :mod:`bot.runtime.model_sync`), so ``bot models``
lists them and promotion can wait until all of them serve the new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bot import settings as bot_settings
from bot.errors import RegistryError
from bot.settings import Settings

# A replica that has not reported for this long is taken to be gone (it
# reports every BOT_MODEL_POLL_S, and loading a model may hold it a while).
LIVE_WITHIN_S = 120.0

_metadata = sa.MetaData()
versions_table = sa.Table(
    "bot_model_versions",
    _metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("accuracy", sa.Float, nullable=False),
    sa.Column("macro_f1", sa.Float, nullable=False),
    sa.Column("out_of_scope_recall", sa.Float, nullable=False),
    sa.Column("per_intent_f1", sa.Text, nullable=False),
    sa.Column("examples", sa.Integer, nullable=False),
    # The annotations file the model was trained with, restored on rollback so
    # that the data in the checkout and the served model agree again.
    sa.Column("annotations", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rolled_back_by", sa.String(200), nullable=True),
    sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
)


replicas_table = sa.Table(
    "bot_model_replicas",
    _metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("model_id", sa.String(64), nullable=True),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Replica:
    """What one Rasa replica last reported: the model it serves, or why it could not load."""

    name: str
    url: str
    model_id: str | None
    version: int | None
    error: str | None
    seen_at: datetime

    @classmethod
    def _from_row(cls, row: Any) -> Replica:
        values = dict(row._mapping)
        if values["seen_at"].tzinfo is None:  # SQLite keeps no zone; all UTC
            values["seen_at"] = values["seen_at"].replace(tzinfo=timezone.utc)
        return cls(**values)

    def alive(self, within_s: float) -> bool:
        """Whether it reported within the last ``within_s`` seconds."""
        return (datetime.now(timezone.utc) - self.seen_at).total_seconds() <= within_s


@dataclass(frozen=True)
class ModelVersion:
    """One registered model."""

    version: int
    model_id: str
    fingerprint: str
    path: str
    accuracy: float
    macro_f1: float
    out_of_scope_recall: float
    per_intent_f1: dict[str, float]
    examples: int
    annotations: str | None
    note: str
    created_by: str
    created_at: datetime
    rolled_back_by: str | None
    rolled_back_at: datetime | None

    @classmethod
    def _from_row(cls, row: Any) -> ModelVersion:
        values = dict(row._mapping)
        values["per_intent_f1"] = json.loads(values["per_intent_f1"])
        for name in ("created_at", "rolled_back_at"):
            moment = values[name]
            if moment is not None and moment.tzinfo is None:  # SQLite keeps no zone; all UTC
                values[name] = moment.replace(tzinfo=timezone.utc)
        return cls(**values)


def database_url(settings: Settings) -> str:
    """``DATABASE_URL`` in SQLAlchemy's spelling, else the embedded SQLite file."""
    return bot_settings.database_url(settings, "registry.db")


class Registry:
    """Reads and writes ``bot_model_versions``; build one per command."""

    def __init__(self, url: str) -> None:
        """Connects lazily to ``url`` and creates the table when missing."""
        self._engine = sa.create_engine(url, future=True)
        _metadata.create_all(self._engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The registry the settings point at."""
        return cls(database_url(settings))

    def close(self) -> None:
        """Releases the connections."""
        self._engine.dispose()

    def versions(self) -> list[ModelVersion]:
        """Every version, newest first."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(versions_table).order_by(versions_table.c.version.desc())
            )
            return [ModelVersion._from_row(row) for row in rows]

    def version(self, number: int) -> ModelVersion:
        """One version by its number.

        Raises:
            RegistryError: There is no such version.
        """
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(versions_table).where(versions_table.c.version == number)
            ).first()
        if row is None:
            raise RegistryError(f"no model version {number}")
        return ModelVersion._from_row(row)

    def set_note(self, number: int, note: str) -> None:
        """Replaces a version's note."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(versions_table)
                .where(versions_table.c.version == number)
                .values(note=note)
            )

    def serving(self) -> ModelVersion | None:
        """The newest version not rolled back, or None when the registry is empty."""
        return next((v for v in self.versions() if v.rolled_back_at is None), None)

    def record(
        self,
        *,
        model_id: str,
        fingerprint: str,
        path: str,
        metrics: dict[str, Any],
        annotations: str | None,
        created_by: str,
        note: str = "",
    ) -> ModelVersion:
        """Registers a promoted model as the served one; returns it."""
        values = {
            "model_id": model_id,
            "fingerprint": fingerprint,
            "path": path,
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "out_of_scope_recall": metrics["out_of_scope_recall"],
            "per_intent_f1": json.dumps(metrics["per_intent_f1"], sort_keys=True),
            "examples": metrics["examples"],
            "annotations": annotations,
            "note": note,
            "created_by": created_by,
            "created_at": datetime.now(timezone.utc),
        }
        with self._engine.begin() as connection:
            result = connection.execute(sa.insert(versions_table).values(**values))
            version = int(result.inserted_primary_key[0])
            row = connection.execute(
                sa.select(versions_table).where(versions_table.c.version == version)
            ).one()
        return ModelVersion._from_row(row)

    def roll_back(self, *, by: str) -> tuple[ModelVersion, ModelVersion]:
        """Marks the served version rolled back; returns it and the one now served.

        Raises:
            RegistryError: Fewer than two versions are left to choose from.
        """
        with self._engine.begin() as connection:
            live = connection.execute(
                sa.select(versions_table)
                .where(versions_table.c.rolled_back_at.is_(None))
                .order_by(versions_table.c.version.desc())
                .limit(2)
                .with_for_update()
            ).all()
            if len(live) < 2:
                raise RegistryError("no earlier model to roll back to")
            connection.execute(
                sa.update(versions_table)
                .where(versions_table.c.version == live[0].version)
                .values(rolled_back_by=by, rolled_back_at=datetime.now(timezone.utc))
            )
            rolled_back = connection.execute(
                sa.select(versions_table).where(versions_table.c.version == live[0].version)
            ).one()
        return ModelVersion._from_row(rolled_back), ModelVersion._from_row(live[1])

    def withdraw(self, version: int, *, by: str) -> None:
        """Marks ``version`` rolled back (its promotion failed on a replica)."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(versions_table)
                .where(versions_table.c.version == version)
                .values(rolled_back_by=by, rolled_back_at=datetime.now(timezone.utc))
            )

    def undo_roll_back(self, version: int) -> None:
        """Serves ``version`` again (when reloading the earlier model failed)."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(versions_table)
                .where(versions_table.c.version == version)
                .values(rolled_back_by=None, rolled_back_at=None)
            )

    def version_of(self, model_id: str | None) -> ModelVersion | None:
        """The newest registered version with that Rasa model id, if any."""
        return next((v for v in self.versions() if v.model_id == model_id), None)

    def report(
        self,
        *,
        name: str,
        url: str,
        model_id: str | None,
        version: int | None,
        error: str | None = None,
    ) -> None:
        """Records what replica ``name`` serves now (called by each replica on every poll)."""
        values = {
            "url": url,
            "model_id": model_id,
            "version": version,
            "error": error,
            "seen_at": datetime.now(timezone.utc),
        }
        with self._engine.begin() as connection:
            updated = connection.execute(
                sa.update(replicas_table).where(replicas_table.c.name == name).values(**values)
            )
            if updated.rowcount == 0:
                connection.execute(sa.insert(replicas_table).values(name=name, **values))

    def replicas(self) -> list[Replica]:
        """Every replica that ever reported, by name."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(replicas_table).order_by(replicas_table.c.name))
            return [Replica._from_row(row) for row in rows]

    def forget_replica(self, name: str) -> None:
        """Drops a replica's report (it stopped for good)."""
        with self._engine.begin() as connection:
            connection.execute(sa.delete(replicas_table).where(replicas_table.c.name == name))
