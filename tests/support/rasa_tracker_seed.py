"""Writes trackers into a real Rasa SQL tracker store, as the Rasa server does.

Run with the Rasa environment (``.venv/bin/python -m tests.support.rasa_tracker_seed``),
the handoff service's tests being on another Python: reads
``{"dialect": "sqlite"|"postgresql", "db": …, "host", "port", "username",
"trackers": {sender_id: [event dicts]}}`` on stdin and saves each tracker
through Rasa's own ``SQLTrackerStore`` (which creates its ``events`` table).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


async def _seed(spec: dict[str, Any]) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(
        dialect=spec["dialect"],
        db=spec["db"],
        host=spec.get("host"),
        port=spec.get("port"),
        username=spec.get("username"),
    )
    for sender, events in spec["trackers"].items():
        tracker = DialogueStateTracker(sender, slots=[])
        for event in events:
            parsed = Event.from_parameters(event)
            assert parsed is not None, event
            tracker.update(parsed)
        await store.save(tracker)
    if spec.get("labels"):
        _write_labels(spec)


def _write_labels(spec: dict[str, Any]) -> None:
    from pathlib import Path

    from bot.training.labels import parse_labels, render
    from bot.training.registry import Registry

    text = render(parse_labels({"examples": spec["labels"]}))
    path = Path(spec["labels_file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    registry = Registry(spec["registry_url"])
    metrics = {
        "accuracy": 0.9,
        "macro_f1": 0.9,
        "out_of_scope_recall": 0.9,
        "per_intent_f1": {},
        "examples": 1,
    }
    registry.record(
        model_id="m1",
        fingerprint="f1",
        path="models/m1.tar.gz",
        metrics=metrics,
        annotations=text,
        created_by="test@host",
    )
    registry.close()


def main() -> int:
    """Seeds the trackers named on stdin."""
    asyncio.run(_seed(json.load(sys.stdin)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
