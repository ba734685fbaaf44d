"""The customer's language, read from their own words at every turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.common.languages import detect_language, language_hint


class ActionDetectLanguage(Action):
    """Custom slot mapping of ``language``: runs after every customer message."""

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
        if detected is None or detected == previous:
            return []
        return [SlotSet("language", detected)]
