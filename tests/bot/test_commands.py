"""``bot retrain``, ``bot models`` and ``bot rollback`` fail clearly, with their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def _embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)


def test_models_on_an_empty_registry(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["models"]) == 0
    assert "no models registered yet" in capsys.readouterr().out
    assert (tmp_path / "var" / "registry.db").is_file()


def test_rollback_with_nothing_to_roll_back_to(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["rollback", "--project", str(tmp_path)]) == 1
    assert "no earlier model to roll back to" in capsys.readouterr().err


def test_retrain_with_unreadable_labels_is_bad_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text('{"examples": [{"text": "hi"}]}', encoding="utf-8")
    assert main(["retrain", "--labels", str(labels), "--project", str(tmp_path)]) == 2
    assert "needs a text and an intent" in capsys.readouterr().err
    assert main(["retrain", "--labels", str(tmp_path / "missing.json")]) == 2
    assert "cannot read labels" in capsys.readouterr().err
