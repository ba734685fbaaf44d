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

With ``sentence_encoder_weight`` above zero, the all-MiniLM-L6-v2 sentence
embedding of the raw text is appended to the sparse TF-IDF features before
the SVM, so one model weighs n-grams and meaning together; the features are
built in :mod:`bot.components.features`. The weight the model was trained
with is stored beside it.
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
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from bot.components.features import (
    build_model,
    feature_frame,
    sentence_vectors,
    stack,
    training_vectors,
)

logger = logging.getLogger(__name__)

RETRIEVAL_SEPARATOR = "/"
_MODEL_FILE = "linear_intent_classifier.skops"
_ENCODER_FILE = "sentence_encoder.json"


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
            # True: one SVM per fold, averaged (folds × the model's size);
            # False: the folds only calibrate one SVM fitted on all the data.
            "calibration_ensemble": True,
            "ranking_length": 10,
            "random_seed": 7,
            # Scale of the sentence-embedding columns next to the TF-IDF
            # ones (each block has unit-length rows); 0 leaves the encoder out.
            "sentence_encoder_weight": 0.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
        responses: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """Wraps an (optionally already fitted) sklearn pipeline."""
        self._config = {**self.get_default_config(), **config}
        weight = float(self._config["sentence_encoder_weight"])
        if not 0.0 <= weight <= 10.0:
            raise ValueError(f"sentence_encoder_weight must be within [0, 10], not {weight}")
        self._encoder_weight = weight
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
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
        self._model = build_model(self._config)
        if self._encoder_weight > 0:
            # The pipeline's steps are fitted one by one so the dense block can
            # be inserted between them; the fitted pipeline stays one object.
            features = self._model.named_steps["features"].fit_transform(feature_frame(examples))
            stacked = stack(features, training_vectors(examples), self._encoder_weight)
            self._model.named_steps["classifier"].fit(stacked, labels)
        else:
            self._model.fit(feature_frame(examples), labels)
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
        if self._encoder_weight > 0:
            features = self._model.named_steps["features"].transform(feature_frame(messages))
            stacked = stack(features, sentence_vectors(messages), self._encoder_weight)
            probabilities = self._model.named_steps["classifier"].predict_proba(stacked)
        else:
            probabilities = self._model.predict_proba(feature_frame(messages))
        classes = [str(label) for label in self._model.classes_]
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
            (directory / _ENCODER_FILE).write_text(
                json.dumps({"weight": self._encoder_weight}), encoding="utf-8"
            )
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
                responses = json.loads((directory / "responses.json").read_text("utf-8"))
                encoder_path = directory / _ENCODER_FILE
                weight = (
                    float(json.loads(encoder_path.read_text("utf-8"))["weight"])
                    if encoder_path.exists()
                    else 0.0
                )
        except ValueError:
            logger.debug("No stored model for %s; it stays untrained.", resource.name)
            return cls(config, model_storage, resource)
        if weight > 0:
            from bot.components.encoder import shared_encoder

            shared_encoder()  # load the weights now, not on the first message
        # The model's columns depend on the weight it was trained with.
        config = {**config, "sentence_encoder_weight": weight}
        return cls(config, model_storage, resource, model=model, responses=responses)


def _load_sklearn(path: Any) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=untrusted if _only_sklearn(untrusted) else None)


def _only_sklearn(types: list[str]) -> bool:
    # Types skops does not trust by default but that are plain sklearn/numpy
    # parts of the pipeline built above; anything else refuses to load.
    return all(name.startswith(("sklearn.", "numpy.", "scipy.", "builtins.")) for name in types)
