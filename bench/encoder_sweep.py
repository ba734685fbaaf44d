"""Does the sentence encoder help? TF-IDF, embeddings, and both, on validation splits.

For each set: tokenizes like the pipeline, reads the all-MiniLM-L6-v2
vectors from the embedding cache (bench/embedding_cache.py), and fits on
``fit`` / scores ``validation`` (the test splits are never read):

- ``tfidf``: the shipped classifier (words + char n-grams, calibrated SVM);
- ``embedding``: the same calibrated SVM on the sentence vectors alone;
- ``average a``: probabilities of the two averaged, weight ``a`` on embeddings;
- ``stack w``: one calibrated SVM over TF-IDF with the vectors times ``w``
  appended as dense columns.

    .venv/bin/python -m bench.encoder_sweep banking77 clinc150 smp2017 own
    .venv/bin/python -m bench.encoder_sweep banking77 clinc150 --final 2

``--final W`` fits the classifier's own model (``bot.components.classifier``) on the
whole training split and scores the test split once, TF-IDF alone and with
the vectors stacked at weight ``W``: the same computation as
``LinearIntentClassifier`` with ``sentence_encoder_weight: W``, with the
vectors read from the cache instead of encoded again.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from bench.embedding_cache import benchmark_embeddings
from bench.public_nlu import pipeline_config, with_fallback
from bench.public_nlu_sweep import _tokenized, build
from bench.public_sets import LOADERS, OUT_OF_SCOPE, Benchmark, benchmarks_dir

AVERAGE_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
STACK_WEIGHTS = (1.0, 2.0)
EMBEDDING_C = 2.0


def _calibrated_svm(c: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=c, class_weight="balanced", random_state=7)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=5)


def _scores(
    benchmark: Benchmark, classes: list[str], probabilities: np.ndarray, split: str = "validation"
) -> str:
    _, threshold, ambiguity = pipeline_config(benchmark.language, {})
    gold = [intent for _, intent in getattr(benchmark, split)]
    rankings = [
        sorted(zip(classes, map(float, row), strict=True), key=lambda pair: -pair[1])
        for row in probabilities
    ]
    top1 = [ranking[0][0] for ranking in rankings]
    shipped = [with_fallback(ranking, threshold, ambiguity) for ranking in rankings]
    scored = [OUT_OF_SCOPE if p == "nlu_fallback" else p for p in shipped]
    accuracy = np.mean([g == p for g, p in zip(gold, top1, strict=True)])
    fallback = np.mean([g == p for g, p in zip(gold, scored, strict=True)])
    line = f"acc {accuracy:.4f}  with fallback {threshold}: {fallback:.4f}"
    if benchmark.has_out_of_scope:
        inside = [(g, p) for g, p in zip(gold, shipped, strict=True) if g != OUT_OF_SCOPE]
        outside = [p for g, p in zip(gold, shipped, strict=True) if g == OUT_OF_SCOPE]
        in_scope = np.mean([g == p for g, p in inside])
        recall = np.mean([p in (OUT_OF_SCOPE, "nlu_fallback") for p in outside])
        line += f"  in-scope {in_scope:.4f} OOS recall {recall:.4f}"
    return line


def sweep(benchmark: Benchmark, stack_weights: tuple[float, ...]) -> None:
    """Prints one line per variant for ``benchmark``'s validation split."""
    from scipy import sparse

    vectors = benchmark_embeddings(benchmark)
    train_x = _tokenized(benchmark.language, benchmark.fit)
    valid_x = _tokenized(benchmark.language, benchmark.validation)
    train_y = np.array([intent for _, intent in benchmark.fit])

    def show(name: str, classes: list[str], probabilities: np.ndarray, seconds: float) -> None:
        line = _scores(benchmark, classes, probabilities)
        print(f"{benchmark.name:<10} {name:<14} {line}  fit {seconds:4.0f} s", flush=True)

    started = time.monotonic()
    tfidf = build({}).fit(train_x, train_y)
    classes = [str(label) for label in tfidf.classes_]
    tfidf_p = tfidf.predict_proba(valid_x)
    show("tfidf", classes, tfidf_p, time.monotonic() - started)
    started = time.monotonic()
    dense = _calibrated_svm(EMBEDDING_C).fit(vectors["fit"], train_y)
    assert [str(label) for label in dense.classes_] == classes
    dense_p = dense.predict_proba(vectors["validation"])
    show("embedding", classes, dense_p, time.monotonic() - started)
    for weight in AVERAGE_WEIGHTS:
        show(f"average {weight}", classes, (1 - weight) * tfidf_p + weight * dense_p, 0.0)
    features = tfidf.named_steps["features"]
    train_sparse = features.transform(train_x)
    valid_sparse = features.transform(valid_x)
    for weight in stack_weights:
        started = time.monotonic()
        stacked = _calibrated_svm(1.0).fit(
            sparse.hstack([train_sparse, weight * vectors["fit"]]).tocsr(), train_y
        )
        probabilities = stacked.predict_proba(
            sparse.hstack([valid_sparse, weight * vectors["validation"]]).tocsr()
        )
        show(f"stack {weight}", classes, probabilities, time.monotonic() - started)


def final(benchmark: Benchmark, weight: float) -> None:
    """Trains on ``training``, scores ``test``: TF-IDF alone and with the vectors stacked."""
    from sklearn.metrics import f1_score

    from bot.components.classifier import LinearIntentClassifier
    from bot.components.features import build_model, stack

    config = LinearIntentClassifier.get_default_config()
    vectors = benchmark_embeddings(benchmark)
    train_x = _tokenized(benchmark.language, benchmark.training)
    test_x = _tokenized(benchmark.language, benchmark.test)
    train_y = np.array([intent for _, intent in benchmark.training])
    gold = [intent for _, intent in benchmark.test]
    _, _, ambiguity = pipeline_config(benchmark.language, {})
    for name, stacked in (("tfidf", False), (f"stack {weight}", True)):
        started = time.monotonic()
        model = build_model(config)
        features, classifier = model.named_steps["features"], model.named_steps["classifier"]
        train_features = features.fit_transform(train_x)
        test_features = features.transform(test_x)
        if stacked:
            train_features = stack(train_features, vectors["training"], weight)
            test_features = stack(test_features, vectors["test"], weight)
        classifier.fit(train_features, train_y)
        seconds = time.monotonic() - started
        classes = [str(label) for label in classifier.classes_]
        probabilities = classifier.predict_proba(test_features)
        top1 = [classes[index] for index in probabilities.argmax(axis=1)]
        macro = f1_score(gold, top1, labels=sorted(set(gold)), average="macro", zero_division=0)
        line = _scores(benchmark, classes, probabilities, split="test")
        print(
            f"{benchmark.name:<10} TEST {name:<12} {line}  macro F1 {macro:.4f}  "
            f"fit {seconds:4.0f} s",
            flush=True,
        )
        if benchmark.has_out_of_scope:
            rankings = [
                sorted(zip(classes, map(float, row), strict=True), key=lambda pair: -pair[1])
                for row in probabilities
            ]
            points = []
            for value in (0.2, 0.3, 0.4, 0.5, 0.6):
                shipped = [with_fallback(ranking, value, ambiguity) for ranking in rankings]
                inside = [(g, p) for g, p in zip(gold, shipped, strict=True) if g != OUT_OF_SCOPE]
                outside = [p for g, p in zip(gold, shipped, strict=True) if g == OUT_OF_SCOPE]
                in_scope = np.mean([g == p for g, p in inside])
                recall = np.mean([p in (OUT_OF_SCOPE, "nlu_fallback") for p in outside])
                points.append(f"{value}: {in_scope:.3f}/{recall:.3f}")
            print(f"{'':<10}      threshold sweep (in-scope/OOS) {', '.join(points)}")


def main() -> None:
    """Runs the sweep on the named sets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--stack", type=float, nargs="*", default=list(STACK_WEIGHTS))
    parser.add_argument("--final", type=float, help="score the test split once, this weight")
    args = parser.parse_args()
    for name in args.sets:
        benchmark = LOADERS[name](benchmarks_dir())
        if args.final is not None:
            final(benchmark, args.final)
        else:
            sweep(benchmark, tuple(args.stack))


if __name__ == "__main__":
    main()
