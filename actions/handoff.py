"""Handing a conversation to a human (the way there: :mod:`actions.escalation`).

Who is talking is kept in one place: Rasa's own pause/resume events on the
tracker. Handing off pauses the conversation, so the bot stays silent until
the conversation is resumed (handed back). The handoff service gets the
conversation with its context (:mod:`actions.handoff_context`) and answers
with the customer's place in the queue, which the customer is told; when the
service cannot be reached the conversation still pauses, and the event
broker delivers it to the service later (its ``pause`` event).
"""

from __future__ import annotations

import enum
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_client import HandoffClient, HandoffError, QueueTicket
from actions.handoff_context import handoff_context
from actions.shop_client import ShopClient, ShopError
from bot import settings as bot_settings
from bot.common.languages import EN, ZH_HANT
from bot.components.sensitive_topics import detect_sensitive_topic

logger = logging.getLogger(__name__)


class HandoffReason(str, enum.Enum):
    """Why the bot handed a conversation to a human."""

    EXPLICIT_REQUEST = "explicit_request"
    REPEATED_MISUNDERSTANDING = "repeated_misunderstanding"
    SENSITIVE_TOPIC = "sensitive_topic"
    COMPLAINT = "complaint"
    FORM_FAILED = "form_failed"
    SHOP_UNAVAILABLE = "shop_unavailable"
    # Unhelpful bot turns in a row that were not misunderstandings (out of
    # scope, a question asked again): the escalation ladder's last step.
    UNRESOLVED = "unresolved"


def offer_handoff(reason: HandoffReason) -> list[EventType]:
    """Events that leave "shall I get you a human?" open for a yes or no."""
    return [
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_action", "handoff"),
        SlotSet("handoff_reason", reason.value),
    ]


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason
) -> list[EventType]:
    """Hands the conversation to the handoff service, tells the customer, pauses the bot.

    The customer hears their place in the queue and the expected wait;
    outside business hours or with nobody online, when someone will answer;
    when the service cannot be reached, that a person will follow up. The
    conversation pauses in every case.

    Args:
        dispatcher: Where the customer's reply goes.
        tracker: The conversation.
        reason: Why; recorded in the ``handoff_reason`` slot.

    Returns:
        The events that record the handoff and pause the conversation.
    """
    logger.info("handing off %s: %s", tracker.sender_id, reason.value)
    settings = bot_settings.load()
    cases = await _after_sales_cases(settings, tracker.get_slot("order_id"), reason)
    ticket: QueueTicket | None = None
    try:
        async with HandoffClient.from_settings(settings) as client:
            ticket = await client.hand_off(handoff_context(tracker, reason.value, cases))
    except (HandoffError, bot_settings.SettingsError) as error:
        logger.error("handoff service did not take %s: %s", tracker.sender_id, error)
    _tell_customer(dispatcher, ticket, tracker.get_slot("language"))
    events: list[EventType] = [
        SlotSet("handoff_reason", reason.value),
        SlotSet("awaiting_confirmation", False),
        SlotSet("pending_action", None),
        SlotSet("order_id_attempts", 0),
    ]
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return [*events, ConversationPaused()]


async def _after_sales_cases(
    settings: bot_settings.Settings, order_id: str | None, reason: HandoffReason
) -> list[dict[str, Any]]:
    # The shop was just seen down: asking again would only make the customer wait.
    if not order_id or reason is HandoffReason.SHOP_UNAVAILABLE:
        return []
    try:
        async with ShopClient.from_settings(settings) as shop:
            cases = await shop.list_cases(order_id)
    except ShopError as error:
        logger.warning("after-sales cases of %s not fetched: %s", order_id, error)
        return []
    fields = ("case_id", "type", "status", "order_id")
    return [{name: case.get(name) for name in fields} for case in cases]


def _tell_customer(
    dispatcher: CollectingDispatcher, ticket: QueueTicket | None, language: str | None
) -> None:
    if ticket is None:
        dispatcher.utter_message(response="utter_handoff_follow_up")
        return
    next_open = describe_opening(ticket.next_open_at, language)
    if not ticket.business_hours_open and next_open:
        dispatcher.utter_message(response="utter_handoff_after_hours", next_open=next_open)
    elif not ticket.business_hours_open or ticket.agents_online < 1:
        dispatcher.utter_message(response="utter_handoff_no_agents")
    else:
        dispatcher.utter_message(
            response="utter_handoff_queued",
            queue_position=ticket.queue_position or 1,
            expected_wait=describe_wait(ticket.expected_wait_s, language),
        )


def describe_wait(seconds: float | None, language: str | None) -> str:
    """ "约3分钟", "約3分鐘", "about 3 minutes"; "不到1分钟" under a minute."""
    if seconds is None or seconds < 60:
        return {ZH_HANT: "不到1分鐘", EN: "less than a minute"}.get(language or "", "不到1分钟")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        unit = {ZH_HANT: "約{}分鐘", EN: "about {} minute{}"}.get(language or "", "约{}分钟")
        return unit.format(minutes, "" if minutes == 1 else "s")
    hours = math.ceil(minutes / 60)
    unit = {ZH_HANT: "約{}小時", EN: "about {} hour{}"}.get(language or "", "约{}小时")
    return unit.format(hours, "" if hours == 1 else "s")


def describe_opening(
    next_open_at: str | None, language: str | None, now: datetime | None = None
) -> str | None:
    """When business hours start again, in the service's time zone and the customer's words.

    Returns:
        "今天 09:00", "明天 09:00", "11月9日 09:00" (or "today at 09:00",
        "on 9 Nov at 09:00"), or None when the service did not say (or said
        something unreadable).
    """
    if not next_open_at:
        return None
    try:
        opening = datetime.fromisoformat(next_open_at.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("unreadable next_open_at from the handoff service: %r", next_open_at)
        return None
    today = (now or datetime.now(opening.tzinfo)).astimezone(opening.tzinfo).date()
    clock = f"{opening:%H:%M}"
    if language == EN:
        if opening.date() == today:
            return f"today at {clock}"
        if opening.date() == today + timedelta(days=1):
            return f"tomorrow at {clock}"
        return f"on {opening.day} {opening:%b} at {clock}"
    if opening.date() == today:
        return f"今天 {clock}"
    if opening.date() == today + timedelta(days=1):
        return f"明天 {clock}"
    return f"{opening.month}月{opening.day}日 {clock}"


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
        return await hand_off(dispatcher, tracker, reason_for_request(tracker))
