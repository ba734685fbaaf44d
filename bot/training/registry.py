"""The model registry: every model ever promoted, and which one is served.

It lives in the same database as Rasa's tracker store (``DATABASE_URL``,
PostgreSQL when scaled out, so every operator and replica sees one history
and two retrains cannot interleave their writes), or in an embedded SQLite
file (``<BOT_VAR_DIR>/registry.db``) when nothing is set, like the rest of
the stack. The table is ``bot_model_versions``; Rasa's own tables are left
alone.

The served model is the newest version not rolled back; rolling back marks
the served version and so serves the one before it.
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

    def undo_roll_back(self, version: int) -> None:
        """Serves ``version`` again (when reloading the earlier model failed)."""
        with self._engine.begin() as connection:
            connection.execute(
                sa.update(versions_table)
                .where(versions_table.c.version == version)
                .values(rolled_back_by=None, rolled_back_at=None)
            )
