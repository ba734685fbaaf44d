"""Tunes the linear classifier's settings on the public sets' validation splits.

Tokenizes with the same Rasa tokenizer as the pipeline, then fits the
classifier's sklearn model directly for each variant (no Rasa training per
variant), trained on ``fit`` and scored on ``validation``; the test splits are
never read. One line per set and variant.

    .venv/bin/python -m bench.public_nlu_sweep banking77 smp2017 clinc150
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.public_nlu import pipeline_config, with_fallback
from bench.public_sets import LOADERS, OUT_OF_SCOPE, Benchmark, Pairs, benchmarks_dir

# Each variant overrides the shipped settings (plus the extra knobs below).
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "C=0.5": {"C": 0.5},
    "C=2": {"C": 2.0},
    "C=5": {"C": 5.0},
    "char 1-5": {"char_max_ngram": 5},
    "char 2-5": {"char_min_ngram": 2, "char_max_ngram": 5},
    "char min_df 1": {"char_min_df": 1},
    "words 1-2": {"word_max_ngram": 2},
    "no class weights": {"class_weight": None},
    "isotonic": {"calibration": "isotonic"},
    "calibration 3 folds": {"calibration_folds": 3},
}


def _tokenized(language: str, pairs: Pairs) -> np.ndarray:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.components.features import feature_frame
    from bot.components.tokenizer import ChineseTokenizer

    config, _, _ = pipeline_config(language, {})
    settings = dict(config["pipeline"][0])
    settings.pop("name")
    cls = ChineseTokenizer if language == "zh" else WhitespaceTokenizer
    context = ExecutionContext(GraphSchema({}), "sweep")
    # Tokenizers store nothing; the storage is only a required argument.
    storage = LocalModelStorage(Path(tempfile.gettempdir()))
    tokenizer = cls.create(
        {**cls.get_default_config(), **settings}, storage, Resource("t"), context
    )
    messages = [Message.build(text=text, intent=intent) for text, intent in pairs]
    tokenizer.process_training_data(TrainingData(training_examples=messages))
    return feature_frame(messages)


def build(settings: dict[str, Any]) -> Any:
    """The classifier's pipeline with the extra knobs this sweep tries."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    from bot.components.classifier import LinearIntentClassifier

    config = {
        **LinearIntentClassifier.get_default_config(),
        "word_max_ngram": 1,
        "class_weight": "balanced",
        "calibration": "sigmoid",
        **settings,
    }
    words = TfidfVectorizer(
        token_pattern=r"\S+",
        lowercase=False,
        sublinear_tf=True,
        ngram_range=(1, config["word_max_ngram"]),
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(config["char_min_ngram"], config["char_max_ngram"]),
        min_df=config["char_min_df"],
        lowercase=False,
        sublinear_tf=True,
    )
    svm = LinearSVC(C=config["C"], class_weight=config["class_weight"], random_state=7)
    return Pipeline(
        [
            ("features", ColumnTransformer([("words", words, 0), ("chars", chars, 1)])),
            (
                "classifier",
                CalibratedClassifierCV(
                    svm, method=config["calibration"], cv=config["calibration_folds"]
                ),
            ),
        ]
    )


def sweep(benchmark: Benchmark, variants: dict[str, dict[str, Any]]) -> None:
    """Fits every variant on ``fit`` and prints its validation scores."""
    _, threshold, ambiguity = pipeline_config(benchmark.language, {})
    train_x = _tokenized(benchmark.language, benchmark.fit)
    valid_x = _tokenized(benchmark.language, benchmark.validation)
    train_y = np.array([intent for _, intent in benchmark.fit])
    gold = [intent for _, intent in benchmark.validation]
    for name, settings in variants.items():
        started = time.monotonic()
        model = build(settings).fit(train_x, train_y)
        seconds = time.monotonic() - started
        probabilities = model.predict_proba(valid_x)
        classes = [str(label) for label in model.classes_]
        rankings = [
            sorted(zip(classes, map(float, row), strict=True), key=lambda pair: -pair[1])
            for row in probabilities
        ]
        top1 = [ranking[0][0] for ranking in rankings]
        accuracy = sum(g == p for g, p in zip(gold, top1, strict=True)) / len(gold)
        line = f"{benchmark.name:<10} {name:<22} val acc {accuracy:.4f}  fit {seconds:5.0f} s"
        if benchmark.has_out_of_scope:
            shipped = [with_fallback(ranking, threshold, ambiguity) for ranking in rankings]
            inside = [(g, p) for g, p in zip(gold, shipped, strict=True) if g != OUT_OF_SCOPE]
            outside = [p for g, p in zip(gold, shipped, strict=True) if g == OUT_OF_SCOPE]
            in_scope = sum(g == p for g, p in inside) / len(inside)
            recall = sum(p in (OUT_OF_SCOPE, "nlu_fallback") for p in outside)
            line += (
                f"  at {threshold}: in-scope {in_scope:.4f} OOS recall {recall / len(outside):.4f}"
            )
        print(line, flush=True)


def main() -> None:
    """Runs the sweep on the named sets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--variants", nargs="*", help=", ".join(VARIANTS))
    args = parser.parse_args()
    chosen = {name: VARIANTS[name] for name in (args.variants or VARIANTS)}
    for name in args.sets:
        sweep(LOADERS[name](benchmarks_dir()), chosen)


if __name__ == "__main__":
    main()
