"""Where a training's time goes, measured side by side in one process.

1. The sentence encoder on the first ``--texts`` training texts, with
   scipy's erf GELU and with TensorFlow's (``bot/components/encoder.py`` takes the
   latter on batches), alternating, twice each.
2. The intent classifier's calibration variants fitted on the same stacked
   features (TF-IDF plus cached sentence vectors), one after the other:
   five folds averaged (the old default), three folds calibrating one SVM
   fitted on all the data (shipped), five folds calibrating one SVM, and the
   shipped variant with its folds on two joblib threads.

    .venv/bin/python -m bench.training_parts [--texts 1500]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bot.components import classifier, encoder, features
from bot.settings import PROJECT_ROOT


def _seconds(work: Callable[[], Any]) -> float:
    started = time.monotonic()
    work()
    return time.monotonic() - started


def _training_examples() -> list[Any]:
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.components.tokenizer import ChineseTokenizer

    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"),
        str(PROJECT_ROOT / "domain.yml"),
        [str(PROJECT_ROOT / "data")],
    )
    data = importer.get_nlu_data()
    config = ChineseTokenizer.get_default_config() | {"token_pattern": r"(?u)\w+"}
    ChineseTokenizer(config, None, None).process_training_data(data)  # type: ignore[arg-type]
    return [e for e in data.intent_examples if e.get("intent") and e.get("text")]


def encoder_gelu(texts: list[str]) -> None:
    """Encodes ``texts`` with each GELU, alternating; prints the medians."""
    model = encoder.shared_encoder()
    fused_from = encoder._FUSED_GELU_FROM
    times: dict[str, list[float]] = {"scipy erf": [], "TensorFlow": []}
    vectors: dict[str, np.ndarray] = {}
    try:
        for _ in range(2):
            for name, threshold in (("scipy erf", 1 << 62), ("TensorFlow", fused_from)):
                encoder._FUSED_GELU_FROM = threshold
                started = time.monotonic()
                vectors[name] = model.encode(texts)
                times[name].append(time.monotonic() - started)
    finally:
        encoder._FUSED_GELU_FROM = fused_from
    for name, seconds in times.items():
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"encode {len(texts)} texts, {name:<10} {statistics.median(seconds):6.2f} s ({runs})")
    difference = float(np.abs(vectors["scipy erf"] - vectors["TensorFlow"]).max())
    print(f"largest difference between the two: {difference:.1e}")


def calibration(examples: list[Any]) -> None:
    """Fits each calibration variant on the same features; prints the seconds."""
    from joblib import parallel_backend

    labels = np.array([example.get_full_intent() for example in examples])
    base = classifier.LinearIntentClassifier.get_default_config() | {"sentence_encoder_weight": 1.0}
    tfidf = features.build_model(base).named_steps["features"]
    stacked = features.stack(
        tfidf.fit_transform(features.feature_frame(examples)),
        features.training_vectors(examples),
        1.0,
    )
    variants = [
        ("5 folds averaged (before)", {"calibration_folds": 5, "calibration_ensemble": True}),
        ("3 folds, one SVM (shipped)", {"calibration_folds": 3, "calibration_ensemble": False}),
        ("5 folds, one SVM", {"calibration_folds": 5, "calibration_ensemble": False}),
    ]
    for name, options in variants:
        model = features.calibrated_svm(base | options)
        print(f"fit {name:<36} {_seconds(lambda m=model: m.fit(stacked, labels)):6.1f} s")
    threaded = features.calibrated_svm(base | variants[1][1]).set_params(n_jobs=2)
    with parallel_backend("threading", n_jobs=2):
        seconds = _seconds(lambda: threaded.fit(stacked, labels))
    print(f"fit {'3 folds, one SVM, two threads':<36} {seconds:6.1f} s")


def main() -> None:
    """Prints both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1500, help="texts for the encoder part")
    args = parser.parse_args()
    examples = _training_examples()
    print(f"{len(examples)} training examples")
    encoder_gelu([example.get("text") for example in examples[: args.texts]])
    calibration(examples)


if __name__ == "__main__":
    main()
