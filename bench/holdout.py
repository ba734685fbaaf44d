"""Held-out accuracy and macro F1, and how long training takes.

Trains a fresh model from the project's data into a temporary folder (never
the cache), times it, and scores it on ``tests/nlu_holdout/``.

    .venv/bin/python -m bench.holdout
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.training.evaluate import evaluate, report
from bot.training.model_cache import fingerprint, train


def main() -> None:
    """Prints the training time and the held-out report."""
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / f"bench-{fingerprint()}.tar.gz"
        seconds = train(model)
        scores = evaluate(model)
    print(f"training time         {seconds:.0f} s ({seconds / 60:.1f} min)")
    print(report(scores))


if __name__ == "__main__":
    main()
