"""The customer's language and mood, read from their own words at every turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.common.anger import anger_score
from bot.common.languages import detect_language, language_hint


class ActionDetectLanguage(Action):
    """Custom slot mapping of ``language`` and ``anger_score``: after every customer message.

    ``anger_score`` is the latest message's score, None for a button payload.
    """

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        previous = tracker.get_slot("language")
        message = tracker.latest_message or {}
        detected = detect_language(message.get("text"), previous)
        if detected is None and previous is None:
            detected = language_hint(message.get("metadata"))
        events: list[EventType] = [SlotSet("anger_score", anger_score(message.get("text")))]
        if detected is not None and detected != previous:
            events.append(SlotSet("language", detected))
        return events
