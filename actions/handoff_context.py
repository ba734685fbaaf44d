"""What travels with a handoff: transcript, intents, slots, summary, channel.

Everything here is read from the tracker Rasa sends the action server, so
the agent sees the conversation as the bot saw it and the customer never has
to repeat themselves (principle 5). The payload is the handoff design's
``POST /api/internal/handoffs`` body.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.wording import HANDOFF_REASON, INTENT, say
from bot.common.languages import DEFAULT_LANGUAGE, EN, ZH_HANT

TRANSCRIPT_TURNS = 50
RECENT_INTENTS = 10
LAST_MESSAGE_CHARS = 200
CHANNELS = ("telegram", "wechat", "webchat")
# Turns that say nothing about what the customer wants.
_NOT_A_REQUEST = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "inform_order_id",
        "request_human",
        "nlu_fallback",
    }
)
_SUMMARY = {
    DEFAULT_LANGUAGE: ("转人工原因：{}", "诉求：{}", "订单号：{}", "客户最后说：“{}”", "。"),
    ZH_HANT: ("轉人工原因：{}", "訴求：{}", "訂單號：{}", "客戶最後說：「{}」", "。"),
    EN: ("Reason: {}", "Request: {}", "Order: {}", 'Last message: "{}"', ". "),
}


def channel_of(tracker: Tracker) -> str:
    """The customer's channel: the conversation id's prefix, else the latest input channel."""
    prefix, _, rest = tracker.sender_id.partition(":")
    if rest and prefix in CHANNELS:
        return prefix
    return tracker.get_latest_input_channel() or "rest"


def full_intent(parse_data: dict[str, Any]) -> str | None:
    """The intent, with its retrieval key when there is one (``faq/invoice``)."""
    name = (parse_data.get("intent") or {}).get("name")
    if not name:
        return None
    selected = (parse_data.get("response_selector") or {}).get(name) or {}
    key = (selected.get("response") or {}).get("intent_response_key")
    return str(key) if key else str(name)


def transcript(events: list[dict[str, Any]], limit: int = TRANSCRIPT_TURNS) -> list[dict[str, Any]]:
    """The customer's and the bot's turns so far, the last ``limit`` of them."""
    turns = []
    for event in events:
        role = {"user": "customer", "bot": "bot"}.get(event.get("event") or "")
        if role is None or not event.get("text"):
            continue
        turns.append({"role": role, "text": event["text"], "timestamp": event.get("timestamp")})
    return turns[-limit:]


def recent_intents(
    events: list[dict[str, Any]], limit: int = RECENT_INTENTS
) -> list[dict[str, Any]]:
    """What the NLU made of the customer's recent messages, with its confidence."""
    found = []
    for event in events:
        if event.get("event") != "user":
            continue
        parse_data = event.get("parse_data") or {}
        intent = full_intent(parse_data)
        if intent is None:
            continue
        found.append(
            {
                "text": event.get("text") or "",
                "intent": intent,
                "confidence": (parse_data.get("intent") or {}).get("confidence"),
                "timestamp": event.get("timestamp"),
            }
        )
    return found[-limit:]


def main_intent(intents: list[dict[str, Any]]) -> str | None:
    """The customer's latest real request; their latest intent when none is."""
    for found in reversed(intents):
        if found["intent"] not in _NOT_A_REQUEST:
            return str(found["intent"])
    return str(intents[-1]["intent"]) if intents else None


def summary(
    *,
    reason: str,
    intent: str | None,
    order_id: str | None,
    last_message: str | None,
    language: str | None,
) -> str:
    """A one-line summary for the agent, in the customer's language."""
    language = language if language in _SUMMARY else DEFAULT_LANGUAGE
    reason_part, intent_part, order_part, last_part, separator = _SUMMARY[language]
    parts = [reason_part.format(say(HANDOFF_REASON, reason, language))]
    if intent:
        base, _, key = intent.partition("/")
        label = say(INTENT, base, language)
        parts.append(intent_part.format(f"{label} ({key})" if key else label))
    if order_id:
        parts.append(order_part.format(order_id))
    if last_message:
        text = " ".join(last_message.split())
        if len(text) > LAST_MESSAGE_CHARS:
            text = text[: LAST_MESSAGE_CHARS - 1] + "…"
        parts.append(last_part.format(text))
    return separator.join(parts).rstrip() + ("." if language == EN else "。")


def peak_anger(events: list[dict[str, Any]]) -> float | None:
    """The highest anger score of the customer's messages in the current session."""
    scores: list[float] = []
    for event in events:
        if event.get("event") == "session_started":
            scores = []
        elif event.get("event") == "slot" and event.get("name") == "anger_score":
            value = event.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                scores.append(float(value))
    return max(scores) if scores else None


def handoff_context(
    tracker: Tracker, reason: str, after_sales_cases: list[dict[str, Any]]
) -> dict[str, Any]:
    """The body of ``POST /api/internal/handoffs`` for this conversation."""
    language = tracker.get_slot("language") or DEFAULT_LANGUAGE
    intents = recent_intents(tracker.events)
    intent = main_intent(intents)
    order_id = tracker.get_slot("order_id")
    customer_turns = [e for e in tracker.events if e.get("event") == "user" and e.get("text")]
    return {
        "conversation_id": tracker.sender_id,
        "channel": channel_of(tracker),
        "reason": reason,
        "intent": intent,
        "language": language,
        "summary": summary(
            reason=reason,
            intent=intent,
            order_id=order_id,
            last_message=customer_turns[-1]["text"] if customer_turns else None,
            language=language,
        ),
        "slots": {name: value for name, value in tracker.slots.items() if value is not None},
        "intents": intents,
        "transcript": transcript(tracker.events),
        "after_sales_cases": after_sales_cases,
        "anger_score": peak_anger(tracker.events),
    }
