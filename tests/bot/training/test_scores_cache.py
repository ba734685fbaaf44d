"""Held-out scores kept beside a model: reused until the model or the split changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.training import evaluate as evaluate_module
from bot.training.evaluate import Scores, evaluate_cached, scores_file


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Counts real scoring runs; each returns scores that tell the runs apart."""
    runs: list[Path] = []

    def scoring(model: Path, directory: Path) -> Scores:
        runs.append(model)
        return Scores(
            examples=len(list(directory.rglob("*.yml"))),
            accuracy=0.9 + len(runs) / 100,
            macro_f1=0.9,
            out_of_scope_recall=1.0,
            per_intent_f1={"greet": 1.0},
            parses_per_second=10.0,
            errors=[{"text": "你好", "gold": "greet", "predicted": "faq/shipping_time"}],
        )

    monkeypatch.setattr(evaluate_module, "evaluate", scoring)
    return runs


def _split(tmp_path: Path) -> Path:
    split = tmp_path / "holdout"
    split.mkdir()
    (split / "greet.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - 你好\n")
    return split


def test_a_model_is_scored_once_per_split(tmp_path: Path, scored: list[Path]) -> None:
    model = tmp_path / "shop-abc.tar.gz"
    model.write_bytes(b"model")
    split = _split(tmp_path)
    first = evaluate_cached(model, split)
    again = evaluate_cached(model, split)
    assert again == first and len(scored) == 1
    assert scores_file(model) == tmp_path / "shop-abc.scores.json"
    # Through the current.tar.gz link, the same model: still remembered.
    link = tmp_path / "current.tar.gz"
    link.symlink_to(model.name)
    assert evaluate_cached(link, split) == first and len(scored) == 1


def test_a_changed_split_or_model_is_scored_again(tmp_path: Path, scored: list[Path]) -> None:
    model = tmp_path / "shop-abc.tar.gz"
    model.write_bytes(b"model")
    split = _split(tmp_path)
    first = evaluate_cached(model, split)
    (split / "thank.yml").write_text("nlu:\n- intent: thank\n  examples: |\n    - 谢谢\n")
    second = evaluate_cached(model, split)
    assert len(scored) == 2 and second.examples == 2 and second != first
    model.write_bytes(b"model trained again")
    os.utime(model, ns=(1, 1))
    assert evaluate_cached(model, split).accuracy == pytest.approx(0.93)
    assert len(scored) == 3


def test_an_unreadable_scores_file_means_scoring_again(tmp_path: Path, scored: list[Path]) -> None:
    model = tmp_path / "shop-abc.tar.gz"
    model.write_bytes(b"model")
    scores_file(model).write_text("{not json")
    evaluate_cached(model, _split(tmp_path))
    assert len(scored) == 1
    assert evaluate_cached(model, tmp_path / "holdout") is not None and len(scored) == 1
