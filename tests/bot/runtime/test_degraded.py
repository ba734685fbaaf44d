"""Degraded, never silent: with the action server stopped, customers get an apology in
their language, and requests for a person, complaints and sensitive topics reach the inbox.

The decisions are checked on trackers; the whole path on the real stack (demo
shop, Rasa, the handoff service) with the action server really stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from rasa.shared.core.events import BotUttered, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime.degraded import APOLOGY, HANDED_OFF, fallback_events
from bot.training.model_cache import ensure_model
from tests.support.handoff_client import HandoffClient
from tests.support.processes import Stack, running_stack


def tracker(text: str, intent: str, *events: object) -> DialogueStateTracker:
    message = UserUttered(text, intent={"name": intent, "confidence": 0.9})
    return DialogueStateTracker.from_events("telegram:1", [*events, message])  # type: ignore[list-item]


def test_a_failing_action_for_an_ordinary_question_apologises_once() -> None:
    failing = tracker("订单20241105001到哪了", "track_order")
    [apology] = fallback_events(failing, "action_run_task", "RulePolicy")
    assert isinstance(apology, BotUttered) and apology.text == APOLOGY["zh-Hans"]
    failing.update(apology)
    assert fallback_events(failing, "action_run_task", "RulePolicy") == []


@pytest.mark.parametrize(
    ("text", "intent", "action", "policy", "reason", "language"),
    [
        (
            "我要人工",
            "request_human",
            "action_handoff",
            "RulePolicy",
            "explicit_request",
            "zh-Hans",
        ),
        ("I want to complain", "complain", "action_handoff", "RulePolicy", "complaint", "en"),
        (
            "我要起訴你們",
            "chitchat",
            "action_handoff",
            "SensitiveTopicPolicy",
            "sensitive_topic",
            "zh-Hant",
        ),
        (
            "human please",
            "request_human",
            "action_detect_language",
            "RulePolicy",
            "explicit_request",
            "en",
        ),
    ],
)
def test_a_customer_who_needs_a_person_is_handed_off_without_the_action_server(
    text: str, intent: str, action: str, policy: str, reason: str, language: str
) -> None:
    events = fallback_events(tracker(text, intent), action, f"policy_3_{policy}")
    assert events[0] == SlotSet("handoff_reason", reason)
    assert isinstance(events[1], ConversationPaused)
    assert isinstance(events[2], BotUttered) and events[2].text == HANDED_OFF[language]


def test_without_a_customer_message_there_is_nothing_to_apologise_for() -> None:
    started = DialogueStateTracker.from_events("telegram:1", [])
    assert fallback_events(started, "action_session_start", "RulePolicy") == []


def test_the_language_slot_wins_over_the_script() -> None:
    failing = tracker("20241105001", "inform", SlotSet("language", "en"))
    [apology] = fallback_events(failing, "order_form", "RulePolicy")
    assert isinstance(apology, BotUttered) and apology.text == APOLOGY["en"]


# --- the real stack, action server stopped -------------------------------------------


@pytest.fixture(scope="module")
def stopped_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Shop, Rasa and the handoff service running; the action server stopped."""
    ensure_model()
    with running_stack(tmp_path_factory.mktemp("degraded"), handoff=True) as stack:
        [actions] = [p for p in stack.processes if p.name == "actions"]
        actions.stop()
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{stack.actions_url}/health", timeout=2)
        yield stack


def say(stack: Stack, sender: str, text: str) -> list[str]:
    answer = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    answer.raise_for_status()
    return [message.get("text", "") for message in answer.json()]


def test_an_order_question_gets_an_apology_not_silence(stopped_actions: Stack) -> None:
    replies = say(stopped_actions, f"webchat:{uuid.uuid4().hex}", "订单20241105001到哪了")
    assert replies == [APOLOGY["zh-Hans"]]
    replies = say(stopped_actions, f"webchat:{uuid.uuid4().hex}", "Where is my order?")
    assert replies == [APOLOGY["en"]]


@pytest.mark.parametrize(
    ("text", "reason", "language"),
    [
        ("我要人工", "explicit_request", "zh-Hans"),
        ("我要起诉你们", "sensitive_topic", "zh-Hans"),
        ("I want to make a complaint about your service", "complaint", "en"),
    ],
)
def test_a_request_for_a_person_reaches_the_inbox(
    stopped_actions: Stack, text: str, reason: str, language: str
) -> None:
    sender = f"webchat:{uuid.uuid4().hex}"
    assert say(stopped_actions, sender, text) == [HANDED_OFF[language]]
    assert stopped_actions.handoff is not None
    inbox = HandoffClient.admin(stopped_actions.handoff)
    seen = inbox.wait_for(sender, lambda c: c["status"] == "pending", what="the degraded hand-off")
    assert seen["reason"] == reason
    # The bot stays silent while the conversation is in human hands.
    assert say(stopped_actions, sender, "hello?") == []


def test_each_failure_is_logged_with_its_action(stopped_actions: Stack) -> None:
    say(stopped_actions, f"webchat:{uuid.uuid4().hex}", "我想退款")
    log = (stopped_actions.var_dir / "rasa.log").read_text(errors="replace")
    assert "answering in degraded mode" in log


def test_a_new_conversation_starts_with_rasas_own_session_start(stopped_actions: Stack) -> None:
    # The custom session start (the privacy notice) needs the action server.
    sender = f"rest-{uuid.uuid4().hex[:12]}"
    assert say(stopped_actions, sender, "订单20241105001到哪了") == [APOLOGY["zh-Hans"]]
    tracker = httpx.get(f"{stopped_actions.rasa_url}/conversations/{sender}/tracker", timeout=10)
    kinds = [(event["event"], event.get("name")) for event in tracker.json()["events"]]
    start = kinds.index(("session_started", None))
    assert kinds[start - 1] == ("action", "action_session_start")
    assert kinds[start + 1] == ("action", "action_listen")
    assert kinds[start + 2][0] == "user"
