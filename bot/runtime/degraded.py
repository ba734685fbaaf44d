"""Degraded, never silent: what Rasa does when a custom action cannot run.

Rasa 3.6 runs each predicted action in ``MessageProcessor._run_action``; when
a custom action fails (the action server is down, answers 5xx, or breaks)
Rasa logs the exception and carries on with no events, so the customer gets
no answer at all, not even to "我要人工". An action server that accepts the
request and never answers holds the turn (and the conversation's lock) for
Rasa's own five minutes.

:func:`install` wraps the custom actions (remote actions and forms, whose
checks run on the action server) that Rasa is about to run, so that a
failure returns events instead of nothing. A custom action that has not
answered within ``ACTION_TIMEOUT`` seconds (default 10; the whole action,
a form's checks included) counts as failed: the customer gets the same
degraded answer, and whatever the action server still does afterwards is
not waited for (its events are not applied). The same bound holds for the
custom slot mappings Rasa asks the action server about before predicting
(``action_detect_language``, run by ``action_extract_slots``): one that
does not answer in time fills no slot, as Rasa does when it fails:

- when the customer needs a human (the failing action is the hand-off, or the
  message's intent asks for a person or complains): the ``handoff_reason``
  slot, Rasa's own pause event and a short apology saying a person will
  answer. The pause reaches the handoff service through the event broker,
  which queues the conversation in the inbox as for any pause from outside
  the inbox (``handoff/services/conversations/ingest.py``): the hand-off no
  longer needs the action server;
- otherwise: a short apology, once per customer message.

A failing ``action_session_start`` (the custom one, ``actions/privacy.py``,
which adds the privacy notice) is replaced by Rasa's own session start, so
that a new conversation starts as usual; the notice then waits for the next
session.

Both in the customer's language (the ``language`` slot, else the message's
own script, else the platform's language code). An action server's
*rejection* (``ActionExecutionRejection``, how forms refuse a value) is not
a failure and passes through untouched.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.actions.action import (
    Action,
    ActionExecutionRejection,
    ActionExtractSlots,
    ActionSessionStart,
    RemoteAction,
)
from rasa.core.actions.loops import LoopAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.common.languages import DEFAULT_LANGUAGE, EN, ZH_HANT, detect_language, language_hint
from bot.settings import DEFAULT_ACTION_TIMEOUT_S

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"
HANDOFF_INTENTS = {"request_human": "explicit_request", "complain": "complaint"}
SENSITIVE_POLICY = "SensitiveTopicPolicy"
DEGRADED = "degraded"  # the metadata key marking these messages

APOLOGY = {
    DEFAULT_LANGUAGE: "抱歉，系统暂时出了点问题，请稍后再试，或回复“人工”联系客服。",
    ZH_HANT: "抱歉，系統暫時出了點問題，請稍後再試，或回覆「人工」聯繫客服。",
    EN: "Sorry, something went wrong on our side. Please try again shortly, or type"
    ' "human" to reach a person.',
}
HANDED_OFF = {
    DEFAULT_LANGUAGE: "抱歉，系统暂时出了点问题。已为您转接人工客服，请稍候，客服会尽快回复您。",
    ZH_HANT: "抱歉，系統暫時出了點問題。已為您轉接人工客服，請稍候，客服會盡快回覆您。",
    EN: "Sorry, something went wrong on our side. A person from our team will answer"
    " you here as soon as possible.",
}


def language_of(tracker: DialogueStateTracker) -> str:
    """The customer's language: the slot, else the latest message's script or platform."""
    slot = tracker.get_slot("language")
    if slot in APOLOGY:
        return str(slot)
    message = tracker.latest_message
    text = message.text if message is not None else None
    found = detect_language(text) or language_hint(message.metadata if message else None)
    return found or DEFAULT_LANGUAGE


def handoff_reason(
    tracker: DialogueStateTracker, action_name: str, policy_name: str | None
) -> str | None:
    """Why the customer needs a human now, or ``None`` when they do not."""
    if policy_name and SENSITIVE_POLICY in policy_name:
        return "sensitive_topic"
    message = tracker.latest_message
    intent = (message.intent or {}).get("name") if message is not None else None
    if intent in HANDOFF_INTENTS:
        return HANDOFF_INTENTS[str(intent)]
    if action_name == HANDOFF_ACTION:
        slot = tracker.get_slot("handoff_reason")
        return str(slot) if slot else "explicit_request"
    return None


def _apologised_since_customer_spoke(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(DEGRADED):
            return True
    return False


def fallback_events(
    tracker: DialogueStateTracker, action_name: str, policy_name: str | None
) -> list[Event]:
    """What to record and say instead of a custom action that failed."""
    language = language_of(tracker)
    reason = handoff_reason(tracker, action_name, policy_name)
    if reason is not None:
        return [
            SlotSet("handoff_reason", reason),
            ConversationPaused(),
            BotUttered(HANDED_OFF[language], metadata={DEGRADED: True, "reason": reason}),
        ]
    message = tracker.latest_message
    if message is None or not message.text or _apologised_since_customer_spoke(tracker):
        return []  # nothing the customer said is waiting for an answer, or already answered
    return [BotUttered(APOLOGY[language], metadata={DEGRADED: True})]


class DegradableAction(Action):
    """A custom action that answers with :func:`fallback_events` when it fails.

    Args:
        inner: The action Rasa predicted.
        policy_name: The policy that predicted it.
        timeout_s: How long the action may take before it counts as failed.
    """

    def __init__(
        self, inner: Action, policy_name: str | None, timeout_s: float = DEFAULT_ACTION_TIMEOUT_S
    ) -> None:
        self._inner = inner
        self._policy_name = policy_name
        self._timeout_s = timeout_s

    def name(self) -> str:
        """The wrapped action's name (the tracker records that one)."""
        return self._inner.name()

    def event_for_successful_execution(self, prediction: Any) -> ActionExecuted:
        """The wrapped action's own record of having run."""
        return self._inner.event_for_successful_execution(prediction)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:
        """Runs the wrapped action; on failure or timeout, the fallback events."""
        try:
            return await asyncio.wait_for(
                self._inner.run(output_channel, nlg, tracker, domain), self._timeout_s
            )
        except ActionExecutionRejection:
            raise
        except asyncio.TimeoutError:
            logger.error(
                "custom action %s did not answer within %.1f s for %s; answering in degraded mode",
                self.name(),
                self._timeout_s,
                tracker.sender_id,
            )
        except Exception:
            logger.exception(
                "custom action %s failed for %s; answering in degraded mode",
                self.name(),
                tracker.sender_id,
            )
        if self.name() == ActionSessionStart().name():
            # The shop's own session start (the privacy notice) waits for the next
            # session; Rasa's starts this one, so the customer's message is answered.
            return await ActionSessionStart().run(output_channel, nlg, tracker, domain)
        return fallback_events(tracker, self.name(), self._policy_name)


_ORIGINAL_RUN_ACTION = MessageProcessor._run_action
_timeout_s = DEFAULT_ACTION_TIMEOUT_S


async def _run_action(
    self: MessageProcessor,
    action: Action,
    tracker: DialogueStateTracker,
    output_channel: Any,
    nlg: Any,
    prediction: Any,
) -> bool:
    if isinstance(action, RemoteAction | LoopAction):
        action = DegradableAction(
            action, getattr(prediction, "policy_name", None), timeout_s=_timeout_s
        )
    return await _ORIGINAL_RUN_ACTION(self, action, tracker, output_channel, nlg, prediction)


_ORIGINAL_CUSTOM_MAPPING = ActionExtractSlots._run_custom_action


async def _run_custom_mapping(
    self: ActionExtractSlots,
    custom_action: str,
    output_channel: Any,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Any,
) -> list[Event]:
    try:
        return await asyncio.wait_for(
            _ORIGINAL_CUSTOM_MAPPING(self, custom_action, output_channel, nlg, tracker, domain),
            _timeout_s,
        )
    except asyncio.TimeoutError:
        logger.error(
            "custom slot mapping %s did not answer within %.1f s for %s; no slot filled",
            custom_action,
            _timeout_s,
            tracker.sender_id,
        )
        return []


def install(timeout_s: float = DEFAULT_ACTION_TIMEOUT_S) -> None:
    """Puts the degradable ``_run_action`` in Rasa's ``MessageProcessor``.

    Args:
        timeout_s: How long a custom action may take (``ACTION_TIMEOUT``).
    """
    global _timeout_s
    _timeout_s = timeout_s
    MessageProcessor._run_action = _run_action
    ActionExtractSlots._run_custom_action = _run_custom_mapping
