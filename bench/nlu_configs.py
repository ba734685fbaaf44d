"""Compares NLU pipelines on the held-out split, at several fallback thresholds.

Trains each named config (NLU only) into a temporary folder and scores it;
the threshold sweep re-applies the fallback to the raw intent ranking, so one
training gives every threshold.

    .venv/bin/python -m bench.nlu_configs config.yml other.yml ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT
from bot.training.evaluate import FALLBACK_INTENT, load_holdout, score

THRESHOLDS = (0.3, 0.4, 0.5, 0.6)


def _train_nlu(config: Path, out: Path, nlu: Path) -> float:
    started = time.monotonic()
    rasa = os.path.join(os.path.dirname(sys.executable), "rasa")
    subprocess.run(
        [
            rasa,
            "train",
            "nlu",
            "--config",
            str(config),
            "--domain",
            "domain.yml",
            "--nlu",
            str(nlu),
            "--out",
            str(out),
            "--fixed-model-name",
            "nlu",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def _prediction(parse: dict[str, Any], threshold: float) -> str:
    ranking = [r for r in parse.get("intent_ranking", []) if r["name"] != FALLBACK_INTENT]
    if not ranking:
        return FALLBACK_INTENT
    top = ranking[0]
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    if top["confidence"] < threshold or top["confidence"] - second < 0.1:
        return FALLBACK_INTENT
    selector = parse.get("response_selector", {}).get(top["name"])
    if selector:
        return str(selector["response"]["intent_response_key"])
    return str(top["name"])


async def _parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def main() -> None:
    """Prints one line per config and threshold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--nlu", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    args = parser.parse_args()
    pairs = load_holdout()
    texts = [text for text, _ in pairs]
    for config in args.configs:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = _train_nlu(config.resolve(), Path(tmp), args.nlu.resolve())
            parses = asyncio.run(_parse_all(Path(tmp) / "nlu.tar.gz", texts))
        for threshold in THRESHOLDS:
            scores = score(pairs, [_prediction(p, threshold) for p in parses], 1.0)
            print(
                f"{config.name:<28} threshold {threshold:.1f}  accuracy {scores.accuracy:.3f}  "
                f"macro F1 {scores.macro_f1:.3f}  oos recall {scores.out_of_scope_recall:.3f}  "
                f"train {seconds:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
