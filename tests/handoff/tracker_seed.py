"""Filling a real Rasa tracker store from the handoff tests (which run on another Python).

Rasa 3.6 lives in the Rasa environment (``.venv``); the service's tests run in
``.venv-handoff``. :func:`seed_trackers` runs ``tests/support/rasa_tracker_seed.py``
there, so the ``events`` table is Rasa's own, written by its ``SQLTrackerStore``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv" / "bin" / "python"


def tracker_store_spec(url: str) -> dict[str, Any]:
    """``SQLTrackerStore``'s arguments for a database URL (SQLite file or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {
        "dialect": "postgresql",
        "db": parsed.database,
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "username": parsed.username or "postgres",
    }


def seed_trackers(spec: dict[str, Any], trackers: dict[str, list[dict[str, Any]]]) -> None:
    """Saves one tracker per sender with these events (Rasa's event dicts)."""
    events = {
        sender: [{k: v for k, v in e.items() if k != "sender_id"} for e in evs]
        for sender, evs in trackers.items()
    }
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "tests.support.rasa_tracker_seed"],
        input=json.dumps({**spec, "trackers": events}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
