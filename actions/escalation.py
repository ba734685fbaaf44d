"""The escalation ladder: unhelpful bot turns in a row lead to a person.

After ``ESCALATION_OFFER_AFTER`` unhelpful turns in a row (two by default)
the customer is offered a person, with buttons; after
``ESCALATION_HANDOFF_AFTER`` (three) the conversation is handed off. A turn
is unhelpful when the bot did not understand (``nlu_fallback``), could not
help (``out_of_scope``), rejected an answer to the form ("this doesn't look
like an order number") or asked the very same question again. Any other
answer resets the count; so does a hand-back by an agent. The count is read
from the conversation itself, so it is per conversation and survives
restarts of the action server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import HandoffReason, hand_off, offer_handoff
from actions.wording import SUGGESTION, say
from bot import settings as bot_settings

MISUNDERSTANDING_ACTION = "action_handle_misunderstanding"
OUT_OF_SCOPE_ACTION = "action_answer_out_of_scope"
_UNHELPFUL_ACTIONS = frozenset({MISUNDERSTANDING_ACTION, OUT_OF_SCOPE_ACTION})
_UNHELPFUL_RESPONSES = frozenset(
    {
        "utter_out_of_scope",
        "utter_ask_rephrase",
        "utter_ask_rephrase_plain",
        "utter_order_id_invalid",
        "utter_order_not_found",
        "utter_answer_is_identifier",
    }
)
# Where a conversation starts over: the count does not reach back past these.
_FRESH_STARTS = frozenset({"resume", "restart", "session_started", "pause"})
_MAX_SUGGESTIONS = 3
_MIN_SUGGESTION_CONFIDENCE = 0.1


def _earlier_turns(tracker: Tracker) -> Iterator[list[dict[str, Any]]]:
    """The events after each earlier customer message, newest turn first.

    The latest message's own turn (being answered now) is left out.
    """
    turn: list[dict[str, Any]] = []
    seen_latest = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in _FRESH_STARTS:
            return
        if kind == "user":
            if seen_latest:
                yield list(reversed(turn))
            seen_latest = True
            turn = []
        else:
            turn.append(event)


def _responses(turn: list[dict[str, Any]]) -> list[str]:
    return [
        str((event.get("metadata") or {}).get("utter_action") or "")
        for event in turn
        if event.get("event") == "bot"
    ]


def _unhelpful(turn: list[dict[str, Any]], previous: list[dict[str, Any]] | None) -> bool:
    if any(e.get("event") == "action" and e.get("name") in _UNHELPFUL_ACTIONS for e in turn):
        return True
    said = _responses(turn)
    if any(name in _UNHELPFUL_RESPONSES for name in said):
        return True
    # Nothing but the question the bot asked the turn before: it is stuck.
    questions = [name for name in said if name.startswith("utter_ask_")]
    if not said or said != questions or previous is None:
        return False
    before = [name for name in _responses(previous) if name.startswith("utter_ask_")]
    return bool(before) and before[-1] == questions[-1]


def unhelpful_streak(tracker: Tracker) -> int:
    """How many bot turns in a row before the current one were unhelpful."""
    turns = list(_earlier_turns(tracker))
    streak = 0
    for index, turn in enumerate(turns):
        previous = turns[index + 1] if index + 1 < len(turns) else None
        if not _unhelpful(turn, previous):
            break
        streak += 1
    return streak


def offer_due(tracker: Tracker) -> bool:
    """Whether the current unhelpful turn is the one at which a person is offered."""
    offer_after = bot_settings.load().escalation_offer_after
    return bool(offer_after) and unhelpful_streak(tracker) + 1 >= offer_after


async def climb(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason
) -> tuple[str, list[EventType]]:
    """Where the current unhelpful turn stands on the ladder.

    Returns:
        ``("handoff", events)`` when the conversation was handed off,
        ``("offer", events)`` when a person should be offered (the caller
        answers first, then :func:`offer_person` asks), or ``("answer", [])``.
    """
    config = bot_settings.load()
    streak = unhelpful_streak(tracker) + 1
    if config.escalation_handoff_after and streak >= config.escalation_handoff_after:
        return "handoff", await hand_off(dispatcher, tracker, reason)
    if config.escalation_offer_after and streak >= config.escalation_offer_after:
        return "offer", []
    return "answer", []


def offer_person(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason
) -> list[EventType]:
    """Asks "shall I get you a person?" with buttons; yes hands off with ``reason``.

    Inside the order form the form is left first: otherwise it would take
    the customer's yes or no as the answer to its own question.
    """
    dispatcher.utter_message(response="utter_offer_human_unresolved")
    if not tracker.active_loop_name:
        return offer_handoff(reason)
    return [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        *offer_handoff(reason),
        FollowupAction("action_listen"),
    ]


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
    """Not understood: ask to rephrase, with suggestions; climbing the ladder."""

    def name(self) -> str:
        return MISUNDERSTANDING_ACTION

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        reason = HandoffReason.REPEATED_MISUNDERSTANDING
        step, events = await climb(dispatcher, tracker, reason)
        if step == "handoff":
            return events
        buttons = _suggestions(tracker)
        if buttons:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase_plain")
        if step == "offer":
            events = offer_person(dispatcher, tracker, reason)
        # Also the core fallback, when no rule applies: wait for the customer
        # instead of predicting the fallback again.
        if not any(event.get("event") == "followup" for event in events):
            events = [*events, FollowupAction("action_listen")]
        return events


class ActionAnswerOutOfScope(Action):
    """Something the bot cannot help with: says so, climbing the ladder."""

    def name(self) -> str:
        return OUT_OF_SCOPE_ACTION

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        step, events = await climb(dispatcher, tracker, HandoffReason.UNRESOLVED)
        if step == "handoff":
            return events
        dispatcher.utter_message(response="utter_out_of_scope")
        if step == "offer":
            return offer_person(dispatcher, tracker, HandoffReason.UNRESOLVED)
        return []
