"""Understanding, on the held-out split nobody trained on."""

from __future__ import annotations

from bot.evaluate import MIN_ACCURACY, MIN_OUT_OF_SCOPE_RECALL, evaluate, report
from bot.models import ensure_model
from tests.conftest import SUMMARY


def test_holdout_accuracy_and_out_of_scope_recall() -> None:
    scores = evaluate(ensure_model())
    SUMMARY.extend(report(scores).split("\n\nmisclassified:")[0].splitlines())
    assert scores.examples >= 300
    assert scores.accuracy >= MIN_ACCURACY, report(scores)
    assert scores.out_of_scope_recall >= MIN_OUT_OF_SCOPE_RECALL, report(scores)
