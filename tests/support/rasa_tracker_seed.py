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


def main() -> int:
    """Seeds the trackers named on stdin."""
    asyncio.run(_seed(json.load(sys.stdin)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
