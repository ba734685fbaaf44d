"""The privacy notice: a new customer's first message gets it before any answer.

Rasa runs ``action_session_start`` before it reads a new conversation's first
message, so the notice goes out first. This is Rasa's own session start (the
slots carried over, as ``carry_over_slots_to_new_session`` asks) plus the
notice, once per customer: ``privacy_notice_shown`` is carried into every
later session. The web chat is skipped, its page shows the notice before the
first message. The link is ``PRIVACY_NOTICE_URL`` when set.

The message is not read yet, so the language is the one the conversation
already has, else the platform's language code in the message's metadata
(Telegram's, the web chat's, a REST client's ``metadata.language_code``), else
the default; the variant is picked here, because Rasa would pick it by the
``language`` slot as it is before this action.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_context import channel_of
from bot import settings as bot_settings
from bot.common.languages import DEFAULT_LANGUAGE, LANGUAGES, language_hint

NOTICE_SHOWN_SLOT = "privacy_notice_shown"
NOTICE = "utter_privacy_notice"
NOTICE_WITH_LINK = "utter_privacy_notice_link"
# Channels that show the notice themselves.
CHANNELS_WITH_OWN_NOTICE = frozenset({"webchat"})


def carried_over_slots(tracker: Tracker) -> list[EventType]:
    """The slots set so far (since the latest restart), as Rasa's session start carries them."""
    names: list[str] = []
    for event in tracker.events:
        if event.get("event") == "restart":
            names = []
        elif event.get("event") == "slot" and event.get("name") not in names:
            names.append(str(event.get("name")))
    return [SlotSet(name, tracker.slots.get(name)) for name in names]


def notice_language(tracker: Tracker) -> str:
    """The conversation's language, else the metadata's language code, else the default."""
    language = tracker.get_slot("language")
    if language in LANGUAGES:
        return str(language)
    return language_hint(tracker.get_slot("session_started_metadata")) or DEFAULT_LANGUAGE


def response_text(domain: dict[str, Any], response: str, language: str) -> str:
    """The text of ``response``'s variant for ``language`` (the unconditioned one by default)."""
    fallback = ""
    for variant in domain.get("responses", {}).get(response, []):
        conditions = variant.get("condition") or []
        if not conditions:
            fallback = fallback or str(variant.get("text") or "")
        elif any(
            condition.get("name") == "language" and condition.get("value") == language
            for condition in conditions
        ):
            return str(variant.get("text") or "")
    return fallback


class ActionSessionStart(Action):
    """Rasa's session start, and the privacy notice for a customer who has not had it."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted(), *carried_over_slots(tracker)]
        if not tracker.get_slot(NOTICE_SHOWN_SLOT) and (
            channel_of(tracker) not in CHANNELS_WITH_OWN_NOTICE
        ):
            url = bot_settings.load().privacy_notice_url
            language = notice_language(tracker)
            text = response_text(domain, NOTICE_WITH_LINK if url else NOTICE, language)
            dispatcher.utter_message(text=text.replace("{privacy_url}", url or ""))
            events.append(SlotSet(NOTICE_SHOWN_SLOT, True))
        events.append(ActionExecuted("action_listen"))
        return events
