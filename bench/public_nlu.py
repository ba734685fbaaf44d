"""The project's NLU pipeline on public intent benchmarks (Banking77, SMP2017, CLINC150 …).

For each set: writes its training split as Rasa NLU data into a temporary
folder, trains the pipeline of ``config.yml`` (the same components; English
sets use Rasa's WhitespaceTokenizer instead of the Chinese one) with ``rasa
train nlu`` in a child process, parses the evaluation split with the trained
model and reports intent accuracy, macro F1, training time, the training
process's peak memory and parses per second. Sets with out-of-scope queries
(CLINC150, HINT3) also get in-scope accuracy and out-of-scope recall at the
shipped fallback threshold and at a sweep of thresholds.

    .venv/bin/python -m bench.public_nlu                      # final figures (test splits)
    .venv/bin/python -m bench.public_nlu banking77 --split validation --option C=0.5
    .venv/bin/python -m bench.public_nlu --smoke --json report.json

``--split validation`` trains without the validation examples and scores
them: tune with it, and score the test split once with what wins.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.public_sets import LOADERS, OUT_OF_SCOPE, Benchmark, Pairs, benchmarks_dir
from bot.settings import PROJECT_ROOT

FALLBACK_INTENT = "nlu_fallback"
DEFAULT_SETS = ("banking77", "smp2017", "clinc150")
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
_CHINESE_TOKENIZER = "bot.components.tokenizer.ChineseTokenizer"
_CLASSIFIER = "bot.components.classifier.LinearIntentClassifier"
# English-only sets weigh the (English) sentence encoder more than our mixed
# zh/en assistant does: 3 won on Banking77's carved validation split
# (bench/encoder_sweep.py; docs/BENCHMARKS.md). ``--option`` overrides it.
LANGUAGE_OPTIONS: dict[str, dict[str, Any]] = {"en": {"sentence_encoder_weight": 3.0}}


class BenchmarkRunError(Exception):
    """Training or parsing a benchmark failed."""


@dataclass
class Result:
    """One set's figures; thresholds are (threshold, in-scope acc, OOS recall)."""

    name: str
    split: str
    train_examples: int
    eval_examples: int
    intents: int
    accuracy: float
    macro_f1: float
    accuracy_with_fallback: float
    threshold: float
    training_seconds: float
    peak_memory_mib: float
    parses_per_second: float
    in_scope_accuracy: float | None = None
    out_of_scope_recall: float | None = None
    in_scope_accuracy_top1: float | None = None
    out_of_scope_recall_top1: float | None = None
    sweep: list[tuple[float, float, float]] = field(default_factory=list)


def pipeline_config(language: str, options: dict[str, Any]) -> tuple[dict[str, Any], float, float]:
    """The shipped NLU pipeline for ``language``, and its fallback thresholds."""
    shipped = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline: list[dict[str, Any]] = []
    threshold, ambiguity = 0.3, 0.1
    for component in shipped["pipeline"]:
        component = dict(component)
        if component["name"] == _CHINESE_TOKENIZER and language != "zh":
            component = {"name": "WhitespaceTokenizer"}
        elif component["name"] == _CLASSIFIER:
            component.update({**LANGUAGE_OPTIONS.get(language, {}), **options})
        elif component["name"] == "FallbackClassifier":
            threshold = float(component.get("threshold", threshold))
            ambiguity = float(component.get("ambiguity_threshold", ambiguity))
        pipeline.append(component)
    config = {"recipe": "default.v1", "language": language, "pipeline": pipeline}
    return config, threshold, ambiguity


def _write_nlu(pairs: Pairs, path: Path) -> None:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = [Message.build(text=text, intent=intent) for text, intent in pairs]
    path.write_text(TrainingData(training_examples=examples).nlu_as_yaml(), encoding="utf-8")


def _train(config: Path, nlu: Path, out: Path) -> tuple[float, float]:
    """Runs ``rasa train nlu``; returns seconds and the child's peak RSS in MiB."""
    rasa = os.path.join(os.path.dirname(sys.executable), "rasa")
    command = [rasa, "train", "nlu", "--config", str(config), "--nlu", str(nlu)]
    command += ["--out", str(out), "--fixed-model-name", "nlu"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), *sys.path])}
    log = out / "train.log"
    started = time.monotonic()
    with log.open("wb") as handle:
        # The empty temporary folder is the working directory, so no domain.yml
        # of the project is picked up.
        process = subprocess.Popen(command, cwd=nlu.parent, env=env, stdout=handle, stderr=handle)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise BenchmarkRunError(f"rasa train nlu failed ({process.returncode}):\n{tail}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports KiB.


async def _parse_all(model: Path, texts: list[str]) -> tuple[list[dict[str, Any]], float]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse at debug level otherwise, which also slows it down.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    started = time.monotonic()
    parses = [await agent.parse_message(text) for text in texts]
    return parses, time.monotonic() - started


def _ranking(parse: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (str(entry["name"]), float(entry["confidence"]))
        for entry in parse.get("intent_ranking", [])
        if entry["name"] != FALLBACK_INTENT
    ]


def with_fallback(ranking: list[tuple[str, float]], threshold: float, ambiguity: float) -> str:
    """The intent FallbackClassifier leaves: the top one, or ``nlu_fallback``."""
    if not ranking:
        return FALLBACK_INTENT
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    top, confidence = ranking[0]
    if confidence < threshold or confidence - second < ambiguity:
        return FALLBACK_INTENT
    return top


def _out_of_scope_scores(gold: list[str], predicted: list[str]) -> tuple[float, float]:
    """(in-scope accuracy, out-of-scope recall); a fallback counts as out of scope."""
    inside = [(g, p) for g, p in zip(gold, predicted, strict=True) if g != OUT_OF_SCOPE]
    outside = [p for g, p in zip(gold, predicted, strict=True) if g == OUT_OF_SCOPE]
    accuracy = sum(g == p for g, p in inside) / len(inside) if inside else 0.0
    recall = sum(p in (OUT_OF_SCOPE, FALLBACK_INTENT) for p in outside) / len(outside)
    return accuracy, recall if outside else 0.0


def run(benchmark: Benchmark, split: str, options: dict[str, Any]) -> Result:
    """Trains on the set's training data and scores ``split`` (test or validation)."""
    from sklearn.metrics import f1_score

    train, evaluate = (
        (benchmark.training, benchmark.test)
        if split == "test"
        else (benchmark.fit, benchmark.validation)
    )
    config, threshold, ambiguity = pipeline_config(benchmark.language, options)
    with tempfile.TemporaryDirectory(prefix=f"bench-{benchmark.name}-") as tmp:
        folder = Path(tmp)
        (folder / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        _write_nlu(train, folder / "nlu.yml")
        out = folder / "models"
        out.mkdir()
        seconds, peak = _train(folder / "config.yml", folder / "nlu.yml", out)
        texts = [text for text, _ in evaluate]
        parses, parse_seconds = asyncio.run(_parse_all(out / "nlu.tar.gz", texts))
    gold = [intent for _, intent in evaluate]
    rankings = [_ranking(parse) for parse in parses]
    top1 = [ranking[0][0] if ranking else FALLBACK_INTENT for ranking in rankings]
    shipped = [with_fallback(ranking, threshold, ambiguity) for ranking in rankings]
    # A fallback on an out-of-scope query is the right answer.
    scored = [OUT_OF_SCOPE if p == FALLBACK_INTENT else p for p in shipped]
    labels = sorted(set(gold))
    result = Result(
        name=benchmark.name,
        split=split,
        train_examples=len(train),
        eval_examples=len(evaluate),
        intents=len({intent for _, intent in train}),
        accuracy=sum(g == p for g, p in zip(gold, top1, strict=True)) / len(gold),
        macro_f1=float(f1_score(gold, top1, labels=labels, average="macro", zero_division=0)),
        accuracy_with_fallback=sum(g == p for g, p in zip(gold, scored, strict=True)) / len(gold),
        threshold=threshold,
        training_seconds=round(seconds, 1),
        peak_memory_mib=round(peak),
        parses_per_second=round(len(texts) / parse_seconds, 1),
    )
    if benchmark.has_out_of_scope:
        result.in_scope_accuracy, result.out_of_scope_recall = _out_of_scope_scores(gold, shipped)
        result.in_scope_accuracy_top1, result.out_of_scope_recall_top1 = _out_of_scope_scores(
            gold, top1
        )
        for value in SWEEP:
            predicted = [with_fallback(ranking, value, ambiguity) for ranking in rankings]
            result.sweep.append((value, *_out_of_scope_scores(gold, predicted)))
    return result


def report(result: Result) -> str:
    """One set's figures as a few plain-text lines."""
    lines = [
        f"{result.name} ({result.split}: {result.eval_examples} examples, "
        f"trained on {result.train_examples}, {result.intents} intents)",
        f"  accuracy (top-1)          {result.accuracy:.4f}",
        f"  macro F1 (top-1)          {result.macro_f1:.4f}",
        f"  accuracy, fallback {result.threshold:.1f}    {result.accuracy_with_fallback:.4f}",
        f"  training                  {result.training_seconds:.0f} s, "
        f"peak {result.peak_memory_mib:.0f} MiB",
        f"  parses per second         {result.parses_per_second:.0f}",
    ]
    if result.in_scope_accuracy is not None:
        lines.append(
            f"  in-scope acc / OOS recall at {result.threshold:.1f}: "
            f"{result.in_scope_accuracy:.4f} / {result.out_of_scope_recall:.4f}; "
            f"top-1 (OOS as a class): {result.in_scope_accuracy_top1:.4f} / "
            f"{result.out_of_scope_recall_top1:.4f}"
        )
        sweep = ", ".join(f"{t:.1f}: {a:.3f}/{r:.3f}" for t, a, r in result.sweep)
        lines.append(f"  threshold sweep (in-scope/OOS) {sweep}")
    return "\n".join(lines)


def _option(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key, yaml.safe_load(value)


def main() -> None:
    """Runs the chosen sets one after another (one training at a time)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", default=list(DEFAULT_SETS), help=", ".join(LOADERS))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--smoke", action="store_true", help="8 SMP2017 domains, for CI")
    parser.add_argument(
        "--option",
        action="append",
        type=_option,
        default=[],
        help="override a LinearIntentClassifier setting, e.g. C=0.5",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    names = ["smoke"] if args.smoke else args.sets
    unknown = sorted(set(names) - set(LOADERS))
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(LOADERS)}")
    options = dict(args.option)
    root = benchmarks_dir()
    results = []
    for name in names:
        result = run(LOADERS[name](root), args.split, options)
        print(report(result), flush=True)
        results.append(result)
    if args.json:
        payload = {"options": options, "results": [asdict(result) for result in results]}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
