"""Intakes on a SQLite file of a test's own, for channels built in tests."""

from __future__ import annotations

from pathlib import Path

from connectors.intake.config import IntakeConfig
from connectors.intake.queue import Intake
from connectors.intake.store import InboundStore


def sqlite_intake(path: Path, channel: str, **config: float) -> Intake:
    """``channel``'s intake on the SQLite file ``path`` (created when missing)."""
    return Intake(InboundStore(f"sqlite:///{path}"), channel, IntakeConfig(**config))  # type: ignore[arg-type]
