"""Why a customer message belongs in the trainers' queue, read from the NLU's ranking."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from handoff.models import Message

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
AMBIGUITY_MARGIN = 0.1


class Reason(enum.StrEnum):
    """Why a message is in the trainers' queue."""

    NLU_FALLBACK = "nlu_fallback"
    AMBIGUOUS = "ambiguous"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding"
    AGENT_FLAG = "agent_flag"
    LOW_CSAT = "low_csat"
    THUMBS_DOWN = "thumbs_down"
    # Understood, but outside what the shop handles: what to teach next (ranked last).
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Prediction:
    """What the NLU made of a message: its two best real intents (never ``nlu_fallback``)."""

    intent: str | None = None
    confidence: float | None = None
    intent_2: str | None = None
    confidence_2: float | None = None


def read_ranking(ranking: list[dict[str, Any]]) -> tuple[Prediction, list[Reason]]:
    """The prediction behind Rasa's ``intent_ranking`` and the queue reasons it shows.

    Rasa's FallbackClassifier puts ``nlu_fallback`` first (for low confidence
    and for ambiguity alike) and keeps the classifier's ranking after it.
    """
    named = [r for r in ranking if isinstance(r, dict) and isinstance(r.get("name"), str)]
    fell_back = bool(named) and named[0]["name"] == FALLBACK_INTENT
    real = [r for r in named if r["name"] != FALLBACK_INTENT]
    first = real[0] if real else {}
    second = real[1] if len(real) > 1 else {}
    prediction = Prediction(
        intent=first.get("name"),
        confidence=number(first.get("confidence")),
        intent_2=second.get("name"),
        confidence_2=number(second.get("confidence")),
    )
    reasons: list[Reason] = []
    top, runner_up = prediction.confidence, prediction.confidence_2
    ambiguous = top is not None and runner_up is not None and top - runner_up < AMBIGUITY_MARGIN
    threshold = number(named[0].get("confidence")) if fell_back else None
    if fell_back and not (ambiguous and threshold is not None and (top or 0.0) >= threshold):
        reasons.append(Reason.NLU_FALLBACK)
    if ambiguous:
        reasons.append(Reason.AMBIGUOUS)
    if not fell_back and prediction.intent == OUT_OF_SCOPE_INTENT:
        reasons.append(Reason.OUT_OF_SCOPE)
    return prediction, reasons


def number(value: object) -> float | None:
    """A JSON number as a float; anything else as ``None``."""
    return float(value) if isinstance(value, int | float) else None


def stored_prediction(message: Message) -> Prediction:
    """The prediction kept on a stored customer message (``nlu_fallback`` skipped)."""
    if message.intent == FALLBACK_INTENT:
        return Prediction(intent=message.intent_2, confidence=message.confidence_2)
    return Prediction(message.intent, message.confidence, message.intent_2, message.confidence_2)
