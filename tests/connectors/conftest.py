"""Fixtures shared by the connector tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from sanic import Sanic


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings as `bot serve rasa` has them embedded: no Redis, ids claimed in SQLite."""
    # Several Sanic apps in one process: keep Sanic from re-compiling its own
    # methods at every start-up (what Sanic's test mode is for).
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path
