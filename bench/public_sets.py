"""Loaders for the public NLU benchmarks in ``../shared/benchmarks/``.

Each loader returns a :class:`Benchmark`: training, validation and test
examples as ``(text, intent)`` pairs. Where a set has no validation split,
one is carved from train (stratified, fixed seed); ``training`` is the whole
official train split, ``fit`` is train without the carved validation part.
Tuning trains on ``fit`` and scores ``validation``; the final figure trains
on ``training`` and scores ``test`` once.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

Pairs = list[tuple[str, str]]
OUT_OF_SCOPE = "out_of_scope"
VALIDATION_SHARE = 0.1
SEED = 13


class BenchmarkDataError(Exception):
    """A benchmark's files are missing or not in the expected format."""


@dataclass(frozen=True)
class Benchmark:
    """One public data set, split for tuning and for the final figure."""

    name: str
    language: str
    fit: Pairs
    validation: Pairs
    training: Pairs
    test: Pairs
    # True when out-of-scope test queries exist (gold ``out_of_scope``).
    has_out_of_scope: bool = False


def benchmarks_dir() -> Path:
    """Where the data sets live (``BENCHMARKS_DIR`` overrides the default)."""
    default = PROJECT_ROOT.parent / "shared" / "benchmarks"
    directory = Path(os.environ.get("BENCHMARKS_DIR", default))
    if not directory.is_dir():
        # Worktrees sit beside the main checkout; so does ../shared.
        directory = Path("/work/shared/benchmarks")
    return directory


def _carve(pairs: Pairs, share: float = VALIDATION_SHARE) -> tuple[Pairs, Pairs]:
    """Splits ``pairs`` into (fit, validation), stratified by intent."""
    by_intent: dict[str, Pairs] = defaultdict(list)
    for pair in pairs:
        by_intent[pair[1]].append(pair)
    rng = random.Random(SEED)
    fit: Pairs = []
    validation: Pairs = []
    for intent in sorted(by_intent):
        examples = sorted(by_intent[intent])
        rng.shuffle(examples)
        cut = max(1, round(len(examples) * share))
        validation += examples[:cut]
        fit += examples[cut:]
    return fit, validation


def _read_csv(path: Path, text: str, label: str, delimiter: str = ",") -> Pairs:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    if not rows or text not in rows[0] or label not in rows[0]:
        raise BenchmarkDataError(f"{path}: expected columns {text!r} and {label!r}")
    return [(row[text].strip(), row[label].strip()) for row in rows if row[text].strip()]


def banking77(root: Path) -> Benchmark:
    """Banking77: 77 intents, official train/test, validation carved."""
    directory = root / "banking77"
    training = _read_csv(directory / "train.csv", "text", "category")
    fit, validation = _carve(training)
    test = _read_csv(directory / "test.csv", "text", "category")
    return Benchmark("banking77", "en", fit, validation, training, test)


def _smp_split(directory: Path, split: str) -> Pairs:
    pairs: Pairs = []
    for path in sorted((directory / split).glob(f"{split}_*.txt")):
        domain = path.stem.removeprefix(f"{split}_")
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        pairs += [(line.strip(), domain) for line in lines if line.strip()]
    if not pairs:
        raise BenchmarkDataError(f"{directory / split}: no {split}_<domain>.txt files")
    return pairs


def smp2017(root: Path) -> Benchmark:
    """SMP2017-ECDT task 1: 31 Chinese domains, official train/develop/test."""
    directory = root / "smp2017-ecdt-task1" / "Task1data"
    training = _smp_split(directory, "train")
    validation = _smp_split(directory, "develop")
    test = _smp_split(directory, "test")
    return Benchmark("smp2017", "zh", training, validation, training, test)


def clinc150(root: Path) -> Benchmark:
    """CLINC150 ``data_full.json``; ``oos`` becomes ``out_of_scope``."""
    data = json.loads((root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))

    def pairs(*splits: str) -> Pairs:
        return [
            (text, OUT_OF_SCOPE if intent == "oos" else intent)
            for split in splits
            for text, intent in data[split]
        ]

    training = pairs("train", "oos_train")
    return Benchmark(
        "clinc150",
        "en",
        training,
        pairs("val", "oos_val"),
        training,
        pairs("test", "oos_test"),
        has_out_of_scope=True,
    )


def _hwu_split(directory: Path) -> Pairs:
    pairs: Pairs = []
    for path in sorted(directory.glob("*.csv")):
        # The file is named <scenario>_<intent>, the label DialoGLUE uses.
        rows = _read_csv(path, "answer_from_anno", "intent", delimiter=";")
        pairs += [(text, path.stem) for text, _ in rows]
    if not pairs:
        raise BenchmarkDataError(f"{directory}: no CSV files")
    return pairs


def hwu64(root: Path) -> Benchmark:
    """HWU64, the KFold_1 split of Casanueva et al.; validation carved."""
    directory = root / "hwu64" / "KFold_1"
    training = _hwu_split(directory / "trainset")
    fit, validation = _carve(training)
    return Benchmark(
        "hwu64", "en", fit, validation, training, _hwu_split(directory / "testset" / "csv")
    )


def _hint3(bot: str) -> Callable[[Path], Benchmark]:
    def load(root: Path) -> Benchmark:
        directory = root / "hint3" / "dataset" / "v1"
        training = _read_csv(directory / "train" / f"{bot}_train.csv", "sentence", "label")
        fit, validation = _carve(training, share=0.2)
        test = [
            (text, OUT_OF_SCOPE if label == "NO_NODES_DETECTED" else label)
            for text, label in _read_csv(
                directory / "test" / f"{bot}_test.csv", "sentence", "label"
            )
        ]
        return Benchmark(f"hint3-{bot}", "en", fit, validation, training, test, True)

    load.__doc__ = f"HINT3 v1 {bot}: no out-of-scope in train; test has it."
    return load


def smoke(root: Path) -> Benchmark:
    """A small SMP2017 slice (8 domains) that trains in seconds, for CI."""
    full = smp2017(root)
    domains = {"bus", "calc", "cookbook", "flight", "music", "poetry", "train", "weather"}

    def keep(pairs: Pairs) -> Pairs:
        return [pair for pair in pairs if pair[1] in domains]

    return Benchmark(
        "smoke-smp2017-8",
        "zh",
        keep(full.fit),
        keep(full.validation),
        keep(full.training),
        keep(full.test),
    )


def own(root: Path) -> Benchmark:
    """The project's own data: ``data/nlu`` (validation carved) and the held-out split.

    For tuning only (``fit``/``validation``); the held-out figure comes from
    ``make eval``, which trains the whole assistant. ``root`` is unused.
    """
    from bot.training.evaluate import load_holdout

    training = load_holdout(PROJECT_ROOT / "data" / "nlu")
    fit, validation = _carve(training, share=0.2)
    return Benchmark("own", "zh", fit, validation, training, load_holdout(), True)


LOADERS: dict[str, Callable[[Path], Benchmark]] = {
    "banking77": banking77,
    "smp2017": smp2017,
    "clinc150": clinc150,
    "hwu64": hwu64,
    "hint3-sofmattress": _hint3("sofmattress"),
    "hint3-curekart": _hint3("curekart"),
    "hint3-powerplay11": _hint3("powerplay11"),
    "smoke": smoke,
    "own": own,
}
