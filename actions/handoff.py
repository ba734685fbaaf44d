"""Handing a conversation to a human, and the misunderstandings that lead there.

Who is talking is kept in one place: Rasa's own pause/resume events on the
tracker. Handing off pauses the conversation, so the bot stays silent until
the conversation is resumed (handed back).
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.labels import SUGGESTION, say
from bot.sensitive import detect_sensitive_topic

logger = logging.getLogger(__name__)

MISUNDERSTANDING_ACTION = "action_handle_misunderstanding"
_MAX_SUGGESTIONS = 3
_MIN_SUGGESTION_CONFIDENCE = 0.1


class HandoffReason(str, enum.Enum):
    """Why the bot handed a conversation to a human."""

    EXPLICIT_REQUEST = "explicit_request"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding"
    SENSITIVE_TOPIC = "sensitive_topic"
    COMPLAINT = "complaint"
    FORM_FAILED = "form_failed"
    SHOP_UNAVAILABLE = "shop_unavailable"


def offer_handoff(reason: HandoffReason) -> list[EventType]:
    """Events that leave "shall I get you a human?" open for a yes or no."""
    return [
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_action", "handoff"),
        SlotSet("handoff_reason", reason.value),
    ]


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason
) -> list[EventType]:
    """Tells the customer a human is coming and pauses the bot.

    Args:
        dispatcher: Where the customer's reply goes.
        tracker: The conversation.
        reason: Why; recorded in the ``handoff_reason`` slot.

    Returns:
        The events that record the handoff and pause the conversation.
    """
    logger.info("handing off %s: %s", tracker.sender_id, reason.value)
    dispatcher.utter_message(response="utter_handoff")
    events: list[EventType] = [
        SlotSet("handoff_reason", reason.value),
        SlotSet("awaiting_confirmation", False),
        SlotSet("pending_action", None),
        SlotSet("order_id_attempts", 0),
    ]
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return [*events, ConversationPaused()]


def _last_bot_response(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def reason_for_request(tracker: Tracker) -> HandoffReason:
    """Works out why the customer's latest message calls for a human."""
    message = tracker.latest_message or {}
    if detect_sensitive_topic(message.get("text")):
        return HandoffReason.SENSITIVE_TOPIC
    if (message.get("intent") or {}).get("name") == "complain":
        return HandoffReason.COMPLAINT
    if _last_bot_response(tracker) == "utter_shop_unavailable":
        return HandoffReason.SHOP_UNAVAILABLE
    return HandoffReason.EXPLICIT_REQUEST


class ActionHandoff(Action):
    """Hands off on request, on a complaint or on a sensitive topic."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        return hand_off(dispatcher, tracker, reason_for_request(tracker))


def previous_turn_was_misunderstood(tracker: Tracker) -> bool:
    """True when the customer's previous message was not understood either."""
    user_turns_seen = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in ("resume", "restart", "session_started"):
            return False
        if kind == "user":
            user_turns_seen += 1
            if user_turns_seen == 2:
                return False
        elif kind == "action" and user_turns_seen == 1:
            if event.get("name") == MISUNDERSTANDING_ACTION:
                return True
    return False


def _suggestions(tracker: Tracker) -> list[dict[str, str]]:
    language = tracker.get_slot("language")
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    buttons = []
    for candidate in ranking:
        intent = candidate.get("name")
        if intent not in SUGGESTION:
            continue
        if (candidate.get("confidence") or 0.0) < _MIN_SUGGESTION_CONFIDENCE:
            continue
        buttons.append({"title": say(SUGGESTION, intent, language), "payload": f"/{intent}"})
        if len(buttons) == _MAX_SUGGESTIONS:
            break
    return buttons


class ActionHandleMisunderstanding(Action):
    """First misunderstanding: ask to rephrase, with suggestions. Second: a human."""

    def name(self) -> str:
        return MISUNDERSTANDING_ACTION

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        if previous_turn_was_misunderstood(tracker):
            return hand_off(dispatcher, tracker, HandoffReason.REPEATED_MISUNDERSTANDING)
        buttons = _suggestions(tracker)
        if buttons:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase_plain")
        # Also the core fallback, when no rule applies: wait for the customer
        # instead of predicting the fallback again.
        return [FollowupAction("action_listen")]
