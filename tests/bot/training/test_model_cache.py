"""The model cache: a model is retrained only when its inputs change."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.training.model_cache import TRAINING_INPUTS, fingerprint

ROOT = PROJECT_ROOT


def _copy_inputs(target: Path) -> None:
    for name in TRAINING_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)


def test_fingerprint_is_stable_and_follows_the_data(tmp_path: Path) -> None:
    _copy_inputs(tmp_path)
    first = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == first
    assert first == fingerprint(ROOT)  # where the copy lives does not matter

    (tmp_path / "README.md").write_text("not a training input")
    assert fingerprint(tmp_path) == first

    rules = tmp_path / "data" / "rules" / "chitchat.yml"
    rules.write_text(rules.read_text() + "\n")
    assert fingerprint(tmp_path) != first
