"""Dialogue policies of our own, registered in ``config.yml``."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.sensitive_topics import detect_sensitive_topic

HANDOFF_ACTION = "action_handoff"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT,
    is_trainable=False,
)
class SensitiveTopicPolicy(Policy):
    """Hands a conversation to a human as soon as a message is sensitive.

    Lawsuits, injuries, stolen accounts, fraud and complaints to a regulator
    must reach a person whatever intent the NLU assigned, so this policy
    looks at the customer's words directly and outranks the rule policy.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default configuration: outrank the RulePolicy (priority 6)."""
        return {"priority": 7}

    @staticmethod
    def supported_data() -> SupportedData:
        """Needs no training data."""
        return SupportedData.ML_AND_RULE_DATA

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SensitiveTopicPolicy:
        """Creates the policy (see the parent class)."""
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SensitiveTopicPolicy:
        """Loads the policy; it keeps no trained state."""
        return cls(config, model_storage, resource, execution_context)

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn: the lexicon lives in :mod:`bot.components.sensitive_topics`."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the handoff right after a sensitive customer message."""
        probabilities = self._default_predictions(domain)
        just_heard_customer = tracker.latest_action_name == ACTION_LISTEN_NAME
        if just_heard_customer and detect_sensitive_topic(tracker.latest_message.text):
            probabilities[domain.index_for_action(HANDOFF_ACTION)] = 1.0
            # Rasa lets a form's happy path ("no user prediction") overrule
            # everything else; a sensitive message must overrule the form.
            return self._prediction(probabilities, is_no_user_prediction=True)
        return self._prediction(probabilities)
