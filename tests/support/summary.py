"""Lines a test wants shown at the end of every run (the held-out scores)."""

from __future__ import annotations

SUMMARY: list[str] = []
