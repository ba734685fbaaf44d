"""A second model without a second training: the served one with a new Rasa model id."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path


def twin_model(model: Path, target: Path) -> str:
    """Copies ``model`` to ``target`` with a fresh ``model_id`` in its metadata; returns it.

    Rasa loads it like the original (same graph, same components), but
    ``GET /status`` tells them apart, which is what the registry tracks.
    """
    new_id = uuid.uuid4().hex
    with tarfile.open(model, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if data is not None and member.name.lstrip("./") == "metadata.json":
                metadata = json.load(data)
                metadata["model_id"] = new_id
                raw = json.dumps(metadata).encode()
                member.size = len(raw)
                copy.addfile(member, io.BytesIO(raw))
            else:
                copy.addfile(member, data)
    return new_id
