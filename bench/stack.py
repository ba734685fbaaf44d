"""Starts a throw-away stack (demo shop, action server, Rasa) for a benchmark."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.training.model_cache import ensure_model
from tests.support.processes import Stack, running_stack


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def benchmark_stack(*, handoff: bool = False, **settings: str) -> Iterator[Stack]:
    """The stack on the current model, in a temporary folder; with ``handoff``,
    the handoff service too (``.venv-handoff``), receiving Rasa's events."""
    ensure_model()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), handoff=handoff, **settings) as stack,
    ):
        yield stack
