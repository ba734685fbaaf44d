"""Building rasa-sdk trackers like the ones Rasa sends to the action server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "domain.yml"


def load_domain() -> dict[str, Any]:
    """The domain as the action server receives it."""
    return yaml.safe_load(DOMAIN_PATH.read_text(encoding="utf-8"))


def make_tracker(
    *,
    text: str = "",
    intent: str = "check_order_status",
    slots: dict[str, Any] | None = None,
    set_this_turn: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    intent_ranking: list[dict[str, Any]] | None = None,
    sender: str = "webchat:test",
) -> Tracker:
    """A tracker right after the customer's latest message.

    Args:
        text: The latest message.
        intent: Its intent.
        slots: Slot values before this turn.
        set_this_turn: Slots Rasa extracted from this message (to validate).
        history: Earlier events, oldest first.
        active_loop: The active form, if any.
        intent_ranking: The NLU's ranking for the latest message.
        sender: The conversation id.
    """
    values = {"language": "zh-Hans", "order_id_attempts": 0, "awaiting_confirmation": False}
    values |= slots or {}
    values |= set_this_turn or {}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": intent_ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [],
    }
    events = list(history or [])
    events += [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest},
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (set_this_turn or {}).items()]
    return Tracker(
        sender,
        values,
        latest,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """The names of the domain responses an action sent."""
    return [message["response"] for message in dispatcher.messages if message.get("response")]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The last value each returned SlotSet gave each slot."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
