"""A fast linear intent classifier that also selects FAQ answers.

TF-IDF over the tokenizer's words and over character n-grams of the raw text,
then a linear SVM whose scores are calibrated into probabilities. On our
3,000-odd examples it trains in seconds where DIET plus a ResponseSelector
took minutes on two cores, and it generalises better to the held-out split
(see docs/BENCHMARKS.md).

Retrieval intents (``faq/<key>``) are learnt as classes of their own. At
prediction time the parent intent (``faq``) gets the summed probability of
its keys, and the best key is published the way Rasa's ResponseSelector
publishes it, so ``utter_faq`` and the rest of Rasa work unchanged.

With ``sentence_encoder_weight`` above zero, a second calibrated SVM is
trained on all-MiniLM-L6-v2 sentence embeddings (bot/encoder.py) and its
probabilities are averaged with the TF-IDF model's, with that weight. It is
off by default: it helps the English benchmarks, not our mostly Chinese
data (docs/BENCHMARKS.md, "Sentence embeddings").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.nlu import to_simplified

logger = logging.getLogger(__name__)

RETRIEVAL_SEPARATOR = "/"
_MODEL_FILE = "linear_intent_classifier.skops"
_ENCODER_MODEL_FILE = "sentence_embedding_classifier.skops"
# Columns of the feature frame: the tokenizer's words, the normalised text.
_WORDS, _CHARS = 0, 1


def normalise(text: str) -> str:
    """The form character n-grams are taken from: Simplified and lower case."""
    return to_simplified(text).lower()


def _words(message: Message) -> str:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(token.text.lower() for token in tokens)


def _build_model(config: dict[str, Any]) -> Any:
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
    return Pipeline([("features", features), ("classifier", _calibrated_svm(config, config["C"]))])


def _calibrated_svm(config: dict[str, Any], c: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=c, class_weight="balanced", random_state=config["random_seed"])
    return CalibratedClassifierCV(svm, method="sigmoid", cv=config["calibration_folds"])


def _sentence_vectors(messages: list[Message]) -> np.ndarray:
    from bot.encoder import shared_encoder

    return shared_encoder().encode([message.get(TEXT) or "" for message in messages])


def _frame(messages: list[Message]) -> np.ndarray:
    rows = [[_words(message), normalise(message.get(TEXT) or "")] for message in messages]
    return np.array(rows, dtype=object).reshape(len(messages), 2)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Calibrated linear SVM over word and character TF-IDF features."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Words come from the pipeline's tokenizer."""
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        """sklearn for the model, skops to store it safely."""
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Settings measured on our data (docs/BENCHMARKS.md)."""
        return {
            "C": 1.0,
            "char_min_ngram": 1,
            "char_max_ngram": 4,
            "char_min_df": 2,
            "calibration_folds": 5,
            "ranking_length": 10,
            "random_seed": 7,
            # Weight of the sentence-embedding model in the averaged
            # probabilities; 0 leaves it out (no encoder is loaded).
            "sentence_encoder_weight": 0.0,
            "sentence_encoder_C": 2.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
        encoder_model: Any = None,
    ) -> None:
        """Wraps (optionally already fitted) sklearn models."""
        self._config = {**self.get_default_config(), **config}
        weight = float(self._config["sentence_encoder_weight"])
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"sentence_encoder_weight must be within [0, 1], not {weight}")
        self._encoder_weight = weight
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._encoder_model = encoder_model
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """Creates an untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on every example that has an intent."""
        examples = [
            example
            for example in training_data.intent_examples
            if example.get(INTENT) and example.get(TEXT)
        ]
        if not examples:
            logger.warning("No intent examples: %s stays untrained.", type(self).__name__)
            return self._resource
        labels = np.array([example.get_full_intent() for example in examples])
        self._model = _build_model(self._config)
        self._model.fit(_frame(examples), labels)
        if self._encoder_weight > 0:
            self._encoder_model = _calibrated_svm(self._config, self._config["sentence_encoder_C"])
            self._encoder_model.fit(_sentence_vectors(examples), labels)
        self._responses = {
            key: list(value)
            for key, value in training_data.responses.items()
            if key.startswith("utter_")
        }
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets intent, intent ranking and, for retrieval intents, the selection."""
        if self._model is None or not messages:
            return messages
        probabilities = self._model.predict_proba(_frame(messages))
        classes = [str(label) for label in self._model.classes_]
        if self._encoder_model is not None and self._encoder_weight > 0:
            # Both models were fitted on the same labels, so columns line up.
            dense = self._encoder_model.predict_proba(_sentence_vectors(messages))
            probabilities = (1 - self._encoder_weight) * probabilities + (
                self._encoder_weight * dense
            )
        for message, row in zip(messages, probabilities, strict=True):
            self._annotate(message, classes, row)
        return messages

    def _annotate(self, message: Message, classes: list[str], row: np.ndarray) -> None:
        parents: dict[str, float] = defaultdict(float)
        keys: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, probability in zip(classes, row, strict=True):
            parent, _, _ = label.partition(RETRIEVAL_SEPARATOR)
            parents[parent] += float(probability)
            if RETRIEVAL_SEPARATOR in label:
                keys[parent].append((label, float(probability)))
        ranking = sorted(
            ({"name": name, "confidence": confidence} for name, confidence in parents.items()),
            key=lambda entry: -float(entry["confidence"]),  # type: ignore[arg-type]
        )[: self._config["ranking_length"]]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        if keys:
            self._select_responses(message, keys)

    def _select_responses(self, message: Message, keys: dict[str, list[tuple[str, float]]]) -> None:
        selection: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(keys)}
        for parent, scored in keys.items():
            total = sum(probability for _, probability in scored) or 1.0
            ranked = sorted(scored, key=lambda pair: -pair[1])
            best, best_probability = ranked[0]
            utter_action = intent_response_key_to_template_key(best)
            selection[parent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self._responses.get(utter_action, []),
                    "confidence": best_probability / total,
                    INTENT_RESPONSE_KEY: best,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter_action,
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {"confidence": probability / total, INTENT_RESPONSE_KEY: label}
                    for label, probability in ranked[: self._config["ranking_length"]]
                ],
            }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selection, add_to_output=True)

    def persist(self) -> None:
        """Stores the fitted model with skops (no pickled code) and the answers."""
        import json

        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self._model, directory / _MODEL_FILE)
            if self._encoder_model is not None:
                sio.dump(self._encoder_model, directory / _ENCODER_MODEL_FILE)
            (directory / "responses.json").write_text(
                json.dumps(self._responses, ensure_ascii=False), encoding="utf-8"
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Loads the model stored by :meth:`persist`; untrained if there is none."""
        import json

        try:
            with model_storage.read_from(resource) as directory:
                model = _load_sklearn(directory / _MODEL_FILE)
                encoder_path = directory / _ENCODER_MODEL_FILE
                encoder_model = _load_sklearn(encoder_path) if encoder_path.exists() else None
                responses = json.loads((directory / "responses.json").read_text("utf-8"))
        except ValueError:
            logger.debug("No stored model for %s; it stays untrained.", resource.name)
            return cls(config, model_storage, resource)
        if encoder_model is not None:
            from bot.encoder import shared_encoder

            shared_encoder()  # load the weights now, not on the first message
        return cls(
            config,
            model_storage,
            resource,
            model=model,
            responses=responses,
            encoder_model=encoder_model,
        )


def _load_sklearn(path: Any) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=untrusted if _only_sklearn(untrusted) else None)


def _only_sklearn(types: list[str]) -> bool:
    # Types skops does not trust by default but that are plain sklearn/numpy
    # parts of the pipeline built above; anything else refuses to load.
    return all(name.startswith(("sklearn.", "numpy.", "scipy.", "builtins.")) for name in types)
