"""Where the trainers' labels went once exported: the Rasa side's training data.

``bot retrain`` writes the labels exported by ``GET /api/annotations/export`` to
``data/nlu/annotations.yml`` of its checkout (``BOT_RETRAIN_PROJECT``) and keeps
a copy of that file with each promoted model in the model registry (table
``bot_model_versions``, column ``annotations``: ``DATABASE_URL``, else
``var/registry.db``). Every example names its sources (annotation and
conversation ids) in its Rasa ``metadata``; erasing a customer removes the
examples one of their conversations gave, from the file and from every
registered copy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Column, Integer, MetaData, Table, Text, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from handoff.settings import Settings

logger = logging.getLogger(__name__)

# The two columns of bot/training/registry.py's table this module reads and writes.
VERSIONS = Table(
    "bot_model_versions",
    MetaData(),
    Column("version", Integer, primary_key=True),
    Column("annotations", Text),
)


def scrub(document: str, conversation_id: str) -> tuple[str, int]:
    """The annotations file without the examples ``conversation_id`` gave.

    Returns the new text (the leading comment lines kept) and how many examples
    were removed; the text unchanged when none were.
    """
    parsed = yaml.safe_load(document) or {}
    removed = 0
    blocks: list[dict[str, Any]] = []
    for block in parsed.get("nlu") or []:
        examples = block.get("examples") if isinstance(block, dict) else None
        if not isinstance(examples, list):
            blocks.append(block)
            continue
        kept = [e for e in examples if not _given_by(e, conversation_id)]
        removed += len(examples) - len(kept)
        if kept:
            blocks.append({**block, "examples": kept})
    if not removed:
        return document, 0
    header = "".join(line for line in document.splitlines(keepends=True) if line.startswith("#"))
    body = yaml.safe_dump(
        {**parsed, "nlu": blocks}, allow_unicode=True, sort_keys=False, width=1000
    )
    return header + body, removed


def _given_by(example: object, conversation_id: str) -> bool:
    if not isinstance(example, dict):
        return False
    sources = (example.get("metadata") or {}).get("sources") or []
    return any(
        isinstance(source, dict) and source.get("conversation_id") == conversation_id
        for source in sources
    )


class ExportedLabels:
    """The annotations file and the registry's copies of it.

    Args:
        labels_file: ``data/nlu/annotations.yml`` of the retraining checkout.
        registry_url: the model registry's database (async SQLAlchemy URL).
    """

    def __init__(self, labels_file: Path, registry_url: str) -> None:
        self._file = labels_file
        parsed = make_url(registry_url)
        self._registry_file = (
            Path(parsed.database)
            if parsed.get_backend_name() == "sqlite" and parsed.database
            else None
        )
        self._engine: AsyncEngine = create_async_engine(
            registry_url,
            **(
                {"connect_args": {"timeout": 10}}
                if self._registry_file
                else {"pool_size": 1, "max_overflow": 1}
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportedLabels:
        """The file and registry the settings name (see the README)."""
        return cls(settings.labels_file, settings.registry)

    async def aclose(self) -> None:
        """Closes the registry's connections."""
        await self._engine.dispose()

    async def erase(self, conversation_id: str) -> int:
        """Removes the examples ``conversation_id`` gave; returns how many (file and copies)."""
        removed = 0
        if self._file.is_file():
            text, found = scrub(self._file.read_text(encoding="utf-8"), conversation_id)
            if found:
                self._file.write_text(text, encoding="utf-8")
                removed += found
        if self._registry_file is not None and not self._registry_file.is_file():
            return removed
        async with self._engine.begin() as connection:
            exists = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, VERSIONS.name)
            )
            if not exists:
                return removed
            rows = await connection.execute(
                select(VERSIONS.c.version, VERSIONS.c.annotations).where(
                    VERSIONS.c.annotations.contains(conversation_id, autoescape=True)
                )
            )
            for version, annotations in rows.all():
                text, found = scrub(annotations, conversation_id)
                if found:
                    await connection.execute(
                        update(VERSIONS)
                        .where(VERSIONS.c.version == version)
                        .values(annotations=text)
                    )
                    removed += found
        return removed
