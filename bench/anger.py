"""Precision and recall of the anger score on the held-out labelled messages.

    .venv/bin/python -m bench.anger

Trains on ``data/emotion/anger_train.tsv`` as the assistant does, scores
``data/emotion/anger_holdout.tsv`` (never trained on) and prints precision and
recall for "angry" at the threshold, overall and per language, as a Markdown
table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.common.anger import (
    ANGRY_THRESHOLD,
    HOLDOUT_FILE,
    TRAIN_FILE,
    Labelled,
    read_labelled,
    scores,
    train,
)


@dataclass(frozen=True)
class Quality:
    messages: int
    angry: int
    precision: float
    recall: float


def quality(examples: list[Labelled], predicted: list[float]) -> Quality:
    """Precision and recall for "angry" at :data:`ANGRY_THRESHOLD`."""
    flagged = [score >= ANGRY_THRESHOLD for score in predicted]
    true_positive = sum(1 for e, f in zip(examples, flagged, strict=True) if f and e.angry)
    angry = sum(1 for e in examples if e.angry)
    return Quality(
        messages=len(examples),
        angry=angry,
        precision=true_positive / sum(flagged) if any(flagged) else 0.0,
        recall=true_positive / angry if angry else 0.0,
    )


def evaluate() -> dict[str, Quality]:
    """Quality on the hold-out, overall (``all``) and per language."""
    model = train(read_labelled(TRAIN_FILE))
    holdout = read_labelled(HOLDOUT_FILE)
    predicted = scores([e.text for e in holdout], model)
    result = {"all": quality(holdout, predicted)}
    for language in sorted({e.language for e in holdout}):
        pairs = [(e, p) for e, p in zip(holdout, predicted, strict=True) if e.language == language]
        result[language] = quality([e for e, _ in pairs], [p for _, p in pairs])
    return result


def main() -> None:
    print(f"threshold {ANGRY_THRESHOLD}; trained on {len(read_labelled(TRAIN_FILE))} messages")
    print("| messages | held out (angry) | precision | recall |")
    print("|---|---|---|---|")
    for name, q in evaluate().items():
        print(f"| {name} | {q.messages} ({q.angry}) | {q.precision:.2f} | {q.recall:.2f} |")


if __name__ == "__main__":
    main()
