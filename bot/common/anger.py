"""How angry a customer's message is: a score from 0 to 1 (issue 17, point 4).

A small classifier (scikit-learn: TF-IDF over character n-grams, so Chinese
needs no word segmentation, then logistic regression) trained on our own
labelled messages in ``data/emotion/anger_train.tsv`` (Simplified and
Traditional Chinese, English); ``anger_holdout.tsv`` is kept out of training
for ``bench/anger.py``. Training takes well under a second, so the model is
fitted on first use in each process, not stored.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "emotion"
TRAIN_FILE = DATA_DIR / "anger_train.tsv"
HOLDOUT_FILE = DATA_DIR / "anger_holdout.tsv"
ANGRY = "angry"
CALM = "calm"
# A score at or above this counts as angry.
ANGRY_THRESHOLD = 0.5


@dataclass(frozen=True)
class Labelled:
    """One labelled message."""

    label: str
    language: str
    text: str

    @property
    def angry(self) -> bool:
        return self.label == ANGRY


def read_labelled(path: Path) -> list[Labelled]:
    """The rows of a labelled file (``label<TAB>language<TAB>text`` with a header)."""
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Labelled(row["label"], row["language"], row["text"]) for row in rows]


def train(examples: list[Labelled]) -> Pipeline:
    """A fitted classifier; ``predict_proba``'s second column is the anger score."""
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), lowercase=True, sublinear_tf=True),
        LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000),
    )
    pipeline.fit([e.text for e in examples], [int(e.angry) for e in examples])
    return pipeline


@lru_cache(maxsize=1)
def _model() -> Pipeline:
    return train(read_labelled(TRAIN_FILE))


def scores(texts: list[str], model: Pipeline | None = None) -> list[float]:
    """The anger score of each text (the shipped model unless ``model`` is given)."""
    if not texts:
        return []
    fitted = model or _model()
    return [round(float(p), 3) for p in fitted.predict_proba(texts)[:, 1]]


def anger_score(text: str | None) -> float | None:
    """The anger score of one message; None for a button payload or no words at all
    (an order number, an emoji)."""
    if not text or text.startswith("/") or not any(c.isalpha() for c in text):
        return None
    return scores([text])[0]
