"""The declarative base, the clock every timestamp uses, and the enum column type."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp in the service is UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


def string_enum(kind: type[enum.Enum], name: str) -> Enum:
    """An enum column stored as a plain string of at most 16 characters.

    No native PostgreSQL enum types, so migrations stay simple.
    """
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )
