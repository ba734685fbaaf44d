"""A throw-away copy of the assistant's training inputs, for retraining tests and benchmarks.

``bot retrain --project <copy>`` then writes its annotations file and models
there, so the checkout's ``data/`` and ``models/`` stay as they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.training.model_cache import CURRENT_MODEL, TRAINING_INPUTS


def copy_assistant(root: Path) -> Path:
    """Copies the training inputs and the served model under ``root``; returns the model."""
    for name in TRAINING_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / name)
    served = CURRENT_MODEL.resolve()
    (root / "models").mkdir()
    shutil.copyfile(served, root / "models" / served.name)
    (root / "models" / CURRENT_MODEL.name).symlink_to(served.name)
    return served
