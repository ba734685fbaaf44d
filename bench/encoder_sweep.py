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

AVERAGE_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6)
STACK_WEIGHTS = (1.0, 2.0)
EMBEDDING_C = 2.0


def _calibrated_svm(c: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=c, class_weight="balanced", random_state=7)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=5)


def _scores(benchmark: Benchmark, classes: list[str], probabilities: np.ndarray) -> str:
    _, threshold, ambiguity = pipeline_config(benchmark.language, {})
    gold = [intent for _, intent in benchmark.validation]
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

    vectors = benchmark_embeddings(
        {
            "fit": [text for text, _ in benchmark.fit],
            "validation": [text for text, _ in benchmark.validation],
        }
    )
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


def main() -> None:
    """Runs the sweep on the named sets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--stack", type=float, nargs="*", default=list(STACK_WEIGHTS))
    args = parser.parse_args()
    for name in args.sets:
        sweep(LOADERS[name](benchmarks_dir()), tuple(args.stack))


if __name__ == "__main__":
    main()
