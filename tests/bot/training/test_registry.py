"""The model registry on SQLite (embedded) and on real PostgreSQL, and the gate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import RegistryError
from bot.training.evaluate import Scores
from bot.training.gate import judge, side_by_side
from bot.training.registry import Registry
from tests.support.postgres import throwaway_database


def _scores(accuracy: float, macro_f1: float, greet: float = 0.9) -> Scores:
    return Scores(
        examples=100,
        accuracy=accuracy,
        macro_f1=macro_f1,
        out_of_scope_recall=0.8,
        per_intent_f1={"greet": greet, "request_refund": 0.8},
        parses_per_second=50.0,
    )


def _metrics(accuracy: float) -> dict[str, object]:
    return {
        "examples": 100,
        "accuracy": accuracy,
        "macro_f1": accuracy,
        "out_of_scope_recall": 0.8,
        "per_intent_f1": {"greet": accuracy},
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        yield Registry(url)
        return
    with throwaway_database("retrain_registry") as url:
        registry = Registry(url)
        try:
            yield registry
        finally:
            registry.close()


def _record(registry: Registry, accuracy: float, annotations: str | None = None):
    return registry.record(
        model_id=uuid.uuid4().hex,
        fingerprint=f"fp{accuracy}",
        path=f"/models/{accuracy}.tar.gz",
        metrics=_metrics(accuracy),
        annotations=annotations,
        created_by="alice@host",
        note="test",
    )


def test_versions_are_numbered_and_the_newest_is_served(registry: Registry) -> None:
    assert registry.serving() is None
    first = _record(registry, 0.8)
    second = _record(registry, 0.85, annotations="nlu: []")
    assert second.version == first.version + 1
    assert registry.serving() == second
    listed = registry.versions()
    assert [v.version for v in listed] == [second.version, first.version]
    assert listed[0].per_intent_f1 == {"greet": 0.85}
    assert listed[0].created_by == "alice@host" and listed[0].created_at.tzinfo is not None


def test_rollback_serves_the_previous_version_and_can_be_undone(registry: Registry) -> None:
    first, second = _record(registry, 0.8), _record(registry, 0.85)
    rolled_back, now = registry.roll_back(by="bob@host")
    assert (rolled_back.version, now.version) == (second.version, first.version)
    assert rolled_back.rolled_back_by == "bob@host"
    assert registry.serving() == first
    with pytest.raises(RegistryError, match="no earlier model"):
        registry.roll_back(by="bob@host")
    registry.undo_roll_back(second.version)
    assert registry.serving() is not None and registry.serving().version == second.version


def test_the_gate_refuses_a_drop_beyond_the_tolerance() -> None:
    assert judge(_scores(0.85, 0.80), _scores(0.845, 0.795), 0.01).promote
    refused = judge(_scores(0.85, 0.80), _scores(0.85, 0.78), 0.01)
    assert not refused.promote
    assert refused.reasons == [
        "macro_f1 0.780 is 0.020 below the serving model's 0.800 (tolerance 0.01)"
    ]
    assert not judge(_scores(0.85, 0.80), _scores(0.83, 0.80), 0.01).promote
    assert judge(_scores(0.85, 0.80), _scores(0.83, 0.80), 0.05).promote


def test_the_gate_refuses_damage_to_one_intent_that_the_averages_hide() -> None:
    # What 40 greetings labelled as refunds did: -0.006 on both averages.
    serving, candidate = _scores(0.882, 0.905, greet=0.966), _scores(0.876, 0.899, greet=0.897)
    verdict = judge(serving, candidate, 0.01, 0.05)
    assert not verdict.promote
    assert verdict.reasons == [
        "greet F1 0.897 is 0.069 below the serving model's 0.966 (per-intent tolerance 0.05)"
    ]
    assert judge(serving, candidate, 0.01, 0.1).promote


def test_side_by_side_shows_both_models_per_intent() -> None:
    table = side_by_side(_scores(0.85, 0.80, greet=0.9), _scores(0.80, 0.70, greet=0.5))
    greet = next(line for line in table.splitlines() if line.startswith("greet"))
    assert greet.split() == ["greet", "0.900", "0.500", "-0.400", "worse"]
    assert any(line.startswith("macro F1") and "-0.100" in line for line in table.splitlines())


def test_replicas_report_what_they_serve_and_a_silent_one_is_not_alive(
    registry: Registry,
) -> None:
    first = _record(registry, 0.8)
    registry.report(name="rasa-a", url="http://a", model_id=first.model_id, version=1)
    registry.report(name="rasa-b", url="http://b", model_id="other", version=None, error="x")
    registry.report(name="rasa-a", url="http://a", model_id=first.model_id, version=first.version)
    listed = registry.replicas()
    assert [(r.name, r.version, r.error) for r in listed] == [
        ("rasa-a", first.version, None),
        ("rasa-b", None, "x"),
    ]
    assert listed[0].alive(60) and not listed[0].alive(-1)
    assert registry.version_of(first.model_id) == first
    assert registry.version_of("unknown") is None
    registry.forget_replica("rasa-b")
    assert [r.name for r in registry.replicas()] == ["rasa-a"]


def test_a_withdrawn_promotion_serves_the_version_before(registry: Registry) -> None:
    first, second = _record(registry, 0.8), _record(registry, 0.85)
    registry.withdraw(second.version, by="carol@host (promotion failed)")
    assert registry.serving() == first
    assert registry.version(second.version).rolled_back_by == "carol@host (promotion failed)"
    with pytest.raises(RegistryError, match="no model version 99"):
        registry.version(99)
