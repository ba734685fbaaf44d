"""The promotion gate: a candidate model against the serving one, on the held-out split."""

from __future__ import annotations

from dataclasses import dataclass

from bot.training.evaluate import Scores

DEFAULT_TOLERANCE = 0.01
# Damage concentrated in one or two intents barely moves the averages over
# 30 intents: 40 greetings labelled as refunds cost 0.006 accuracy and macro
# F1 but 0.07 F1 on request_refund (docs/BENCHMARKS.md, "Retraining"). So each
# intent's F1 is also guarded, more loosely, as one held-out example of ~15
# moves an intent's F1 by about 0.03.
DEFAULT_INTENT_TOLERANCE = 0.05


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, and why (or why not)."""

    promote: bool
    reasons: list[str]


def judge(
    serving: Scores,
    candidate: Scores,
    tolerance: float = DEFAULT_TOLERANCE,
    intent_tolerance: float = DEFAULT_INTENT_TOLERANCE,
) -> Verdict:
    """Promote only when accuracy and macro F1 drop by at most ``tolerance``.

    And no intent's F1 drops by more than ``intent_tolerance``.
    """
    reasons = []
    for name in ("accuracy", "macro_f1"):
        before, after = getattr(serving, name), getattr(candidate, name)
        if after < before - tolerance:
            reasons.append(
                f"{name} {after:.3f} is {before - after:.3f} below the serving model's"
                f" {before:.3f} (tolerance {tolerance})"
            )
    for intent, before in sorted(serving.per_intent_f1.items()):
        after = candidate.per_intent_f1.get(intent, 0.0)
        if after < before - intent_tolerance:
            reasons.append(
                f"{intent} F1 {after:.3f} is {before - after:.3f} below the serving model's"
                f" {before:.3f} (per-intent tolerance {intent_tolerance})"
            )
    if reasons:
        return Verdict(False, reasons)
    return Verdict(
        True,
        [
            f"accuracy {serving.accuracy:.3f} -> {candidate.accuracy:.3f},"
            f" macro F1 {serving.macro_f1:.3f} -> {candidate.macro_f1:.3f}"
            f" (tolerance {tolerance})"
        ],
    )


def side_by_side(serving: Scores, candidate: Scores, tolerance: float = DEFAULT_TOLERANCE) -> str:
    """Per-intent F1 of both models, then the totals, as a plain-text table."""
    lines = [f"{'intent':<30} {'serving':>8} {'candidate':>10} {'change':>8}"]
    for intent in sorted(set(serving.per_intent_f1) | set(candidate.per_intent_f1)):
        before = serving.per_intent_f1.get(intent, 0.0)
        after = candidate.per_intent_f1.get(intent, 0.0)
        flag = "  worse" if after < before - tolerance else ""
        lines.append(f"{intent:<30} {before:8.3f} {after:10.3f} {after - before:+8.3f}{flag}")
    lines.append("")
    for label, name in (
        ("accuracy", "accuracy"),
        ("macro F1", "macro_f1"),
        ("out_of_scope recall", "out_of_scope_recall"),
    ):
        before, after = getattr(serving, name), getattr(candidate, name)
        lines.append(f"{label:<30} {before:8.3f} {after:10.3f} {after - before:+8.3f}")
    lines.append(f"{'held-out examples':<30} {serving.examples:8d} {candidate.examples:10d}")
    return "\n".join(lines)
