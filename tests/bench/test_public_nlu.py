"""The public-benchmark script: loaders, scoring and a real smoke run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.public_nlu import FALLBACK_INTENT, pipeline_config, with_fallback
from bench.public_sets import LOADERS, OUT_OF_SCOPE, benchmarks_dir
from bot.settings import PROJECT_ROOT

needs_data = pytest.mark.skipif(
    not benchmarks_dir().is_dir(), reason="public benchmarks not found (set BENCHMARKS_DIR)"
)


def test_fallback_needs_a_confident_and_clear_winner() -> None:
    assert with_fallback([("a", 0.8), ("b", 0.1)], 0.4, 0.1) == "a"
    assert with_fallback([("a", 0.35), ("b", 0.1)], 0.4, 0.1) == FALLBACK_INTENT
    assert with_fallback([("a", 0.45), ("b", 0.40)], 0.4, 0.1) == FALLBACK_INTENT
    assert with_fallback([], 0.4, 0.1) == FALLBACK_INTENT


def test_english_sets_swap_only_the_tokenizer() -> None:
    config, threshold, ambiguity = pipeline_config("en", {"C": 0.5})
    names = [component["name"] for component in config["pipeline"]]
    assert names[0] == "WhitespaceTokenizer"
    assert "bot.components.tokenizer.ChineseTokenizer" not in names
    assert "bot.components.classifier.LinearIntentClassifier" in names
    classifier = config["pipeline"][names.index("bot.components.classifier.LinearIntentClassifier")]
    assert classifier["C"] == 0.5
    # English sets weigh the sentence encoder as tuned on Banking77's validation.
    assert classifier["sentence_encoder_weight"] == 3.0
    assert (threshold, ambiguity) == (0.4, 0.1)  # config.yml's FallbackClassifier
    chinese, _, _ = pipeline_config("zh", {})
    assert chinese["pipeline"][0]["name"] == "bot.components.tokenizer.ChineseTokenizer"
    shipped = next(c for c in chinese["pipeline"] if c["name"].endswith("LinearIntentClassifier"))
    assert shipped["sentence_encoder_weight"] == 1.0  # as in config.yml


@needs_data
def test_loaders_match_the_published_counts() -> None:
    root = benchmarks_dir()
    banking = LOADERS["banking77"](root)
    assert (len(banking.training), len(banking.test)) == (10_003, 3_080)
    # The carved validation split is disjoint from what tuning trains on.
    assert len(banking.fit) + len(banking.validation) == len(banking.training)
    assert not set(banking.fit) & set(banking.validation)
    clinc = LOADERS["clinc150"](root)
    assert len(clinc.training) == 15_100
    assert sum(intent == OUT_OF_SCOPE for _, intent in clinc.test) == 1_000
    smp = LOADERS["smp2017"](root)
    assert (len(smp.training), len(smp.validation), len(smp.test)) == (2_299, 770, 667)
    assert len({intent for _, intent in smp.test}) == 31


@needs_data
def test_smoke_run_trains_parses_and_scores(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "bench.public_nlu", "--smoke", "--json", str(report)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=540,
    )
    (result,) = json.loads(report.read_text(encoding="utf-8"))["results"]
    assert result["intents"] == 8
    assert result["eval_examples"] > 200
    # Eight well-separated SMP2017 domains: the pipeline scores ~0.98 here.
    assert result["accuracy"] > 0.9
    assert result["macro_f1"] > 0.85
    assert result["accuracy_with_fallback"] > 0.85
    assert result["training_seconds"] > 0
    assert 100 < result["peak_memory_mib"] < 8_000
    assert result["parses_per_second"] > 5
