"""The features :class:`~bot.components.classifier.LinearIntentClassifier` learns from.

Two text columns per message (the tokenizer's words, and the Simplified,
lower-case text that character n-grams are taken from) go through TF-IDF
into a calibrated linear SVM. With a sentence-encoder weight above zero, the
all-MiniLM-L6-v2 embedding of the raw text (:mod:`bot.components.encoder`,
384 dense columns scaled by that weight) is stacked beside the sparse
TF-IDF columns before the SVM (docs/BENCHMARKS.md, "Sentence embeddings").

The classifier and the benchmarks (``bench/``) build their models here, so
both measure the same features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.tokenizer import to_simplified

# Columns of the feature frame: the tokenizer's words, the n-gram text.
_WORDS, _CHARS = 0, 1


def ngram_text(text: str) -> str:
    """The form character n-grams are taken from: Simplified and lower case."""
    return to_simplified(text).lower()


def _words(message: Message) -> str:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(token.text.lower() for token in tokens)


def feature_frame(messages: list[Message]) -> np.ndarray:
    """The two text columns (words, n-gram text) of each message, one row each."""
    rows = [[_words(message), ngram_text(message.get(TEXT) or "")] for message in messages]
    return np.array(rows, dtype=object).reshape(len(messages), 2)


def build_model(config: dict[str, Any]) -> Any:
    """An unfitted sklearn pipeline: TF-IDF of both columns, then the calibrated SVM.

    Args:
        config: The classifier's configuration (n-gram range, ``min_df``,
            ``C``, calibration folds, random seed).

    Returns:
        A ``Pipeline`` with the steps ``features`` and ``classifier``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    # Column indices instead of callables, so the fitted model is made only of
    # sklearn types and loads through skops without trusting pickled code.
    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True),
                _WORDS,
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(config["char_min_ngram"], config["char_max_ngram"]),
                    min_df=config["char_min_df"],
                    lowercase=False,
                    sublinear_tf=True,
                ),
                _CHARS,
            ),
        ]
    )
    return Pipeline([("features", features), ("classifier", calibrated_svm(config))])


def calibrated_svm(config: dict[str, Any]) -> Any:
    """A linear SVM whose scores are calibrated into probabilities (sigmoid, k folds)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=config["C"], class_weight="balanced", random_state=config["random_seed"])
    return CalibratedClassifierCV(
        svm,
        method="sigmoid",
        cv=config["calibration_folds"],
        ensemble=bool(config["calibration_ensemble"]),
    )


def stack(sparse_features: Any, vectors: np.ndarray, weight: float) -> Any:
    """TF-IDF columns followed by the sentence vectors scaled by ``weight``."""
    from scipy import sparse

    return sparse.hstack([sparse_features, weight * vectors], format="csr")


# Vectors encoded ahead in one batch (see prime_sentence_vectors), by text.
_primed: dict[str, np.ndarray] = {}


def prime_sentence_vectors(texts: list[str]) -> None:
    """Encodes ``texts`` in one batch for the parses that follow (an evaluation).

    Rasa parses one message at a time; batched, the encoder is several times
    faster per text. Replaces what was primed before; no texts forget it.
    """
    _primed.clear()
    if not texts:
        return
    from bot.components.encoder import shared_encoder

    unique = list(dict.fromkeys(texts))
    _primed.update(zip(unique, shared_encoder().encode(unique), strict=True))


def sentence_vectors(messages: list[Message]) -> np.ndarray:
    """The sentence vectors of ``messages``' texts, primed ones without encoding again."""
    from bot.components.encoder import shared_encoder

    texts = [message.get(TEXT) or "" for message in messages]
    if _primed and all(text in _primed for text in texts):
        return np.vstack([_primed[text] for text in texts])
    return shared_encoder().encode(texts)


def training_vectors(messages: list[Message]) -> np.ndarray:
    """As :func:`sentence_vectors`, through the on-disk cache (:mod:`bot.components.vector_cache`).

    Training encodes every example; the cache keeps retraining from encoding
    the unchanged ones again.
    """
    from bot.components.encoder import shared_encoder
    from bot.components.vector_cache import VectorCache

    cache = VectorCache.for_training(shared_encoder())
    return cache.vectors([message.get(TEXT) or "" for message in messages])
