"""A hanging action server gets the same degraded answer as one that is down, in bounded time.

Rasa's own ``RemoteAction`` against a local server that accepts the request
and never answers; then the whole path on the real stack (Rasa and the
handoff service) with ``ACTION_ENDPOINT_URL`` pointing at that server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.runtime import degraded
from bot.runtime.degraded import APOLOGY, HANDED_OFF, DegradableAction
from bot.settings import PROJECT_ROOT
from bot.training.model_cache import ensure_model
from tests.support.handoff_client import HandoffClient
from tests.support.processes import Stack, running_stack
from tests.support.stream_silent_server import silent_server


def tracker(text: str, intent: str) -> DialogueStateTracker:
    message = UserUttered(text, intent={"name": intent, "confidence": 0.9})
    return DialogueStateTracker.from_events("telegram:1", [message])


async def run_against_silence(text: str, intent: str, action: str) -> tuple[list, float, int]:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    with silent_server() as (url, received):
        remote = RemoteAction(action, EndpointConfig(url=f"{url}/webhook"))
        started = time.perf_counter()
        events = await DegradableAction(remote, None, timeout_s=0.5).run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator({}),
            tracker(text, intent),
            domain,
        )
        return events, time.perf_counter() - started, len(received)


async def test_an_action_server_that_never_answers_gets_an_apology_in_bounded_time() -> None:
    events, took_s, requests = await run_against_silence(
        "订单20241105001到哪了", "track_order", "action_order_status"
    )
    assert requests == 1  # the request reached the server, which held it
    assert 0.5 <= took_s < 2.0
    assert [type(e) for e in events] == [BotUttered]
    assert events[0].text == APOLOGY["zh-Hans"]


async def test_a_person_is_still_reached_when_the_hand_off_action_hangs() -> None:
    events, _, _ = await run_against_silence("我要人工", "request_human", "action_handoff")
    assert any(isinstance(e, ConversationPaused) for e in events)
    assert events[-1].text == HANDED_OFF["zh-Hans"]


async def test_a_custom_slot_mapping_that_never_answers_fills_nothing_in_bounded_time() -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    original = degraded._timeout_s
    degraded.install(timeout_s=0.5)
    try:
        with silent_server() as (url, received):
            extract = ActionExtractSlots(EndpointConfig(url=f"{url}/webhook"))
            started = time.perf_counter()
            events = await extract._run_custom_action(
                "action_detect_language",
                CollectingOutputChannel(),
                TemplatedNaturalLanguageGenerator({}),
                tracker("Where is my order?", "track_order"),
                domain,
            )
            took_s = time.perf_counter() - started
            assert len(received) == 1
    finally:
        degraded.install(timeout_s=original)
    assert events == [] and 0.5 <= took_s < 2.0


def test_the_bound_comes_from_action_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import settings

    monkeypatch.setenv("ACTION_TIMEOUT", "2.5")
    assert settings.load(read_dotenv=False).action_timeout_s == 2.5
    monkeypatch.setenv("ACTION_TIMEOUT", "0")
    with pytest.raises(settings.SettingsError):
        settings.load(read_dotenv=False)
    original = degraded._timeout_s
    degraded.install(timeout_s=2.5)
    try:
        assert degraded._timeout_s == 2.5
    finally:
        degraded.install(timeout_s=original)


# --- the real stack, action server hanging ------------------------------------------


@pytest.fixture(scope="module")
def hanging_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    with (
        silent_server() as (url, _),
        running_stack(
            tmp_path_factory.mktemp("hanging"),
            handoff=True,
            ACTION_ENDPOINT_URL=f"{url}/webhook",
            ACTION_TIMEOUT="2",
        ) as stack,
    ):
        yield stack


def say(stack: Stack, sender: str, text: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    answer = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    answer.raise_for_status()
    return [m.get("text", "") for m in answer.json()], time.perf_counter() - started


@pytest.mark.stack
def test_a_customer_is_answered_within_the_bound_when_the_action_server_hangs(
    hanging_actions: Stack,
) -> None:
    replies, took_s = say(hanging_actions, f"webchat:{uuid.uuid4().hex}", "Where is my order?")
    assert replies == [APOLOGY["en"]]
    assert took_s < 10  # ACTION_TIMEOUT=2, not Rasa's five minutes


@pytest.mark.stack
def test_a_request_for_a_person_reaches_the_inbox_when_the_action_server_hangs(
    hanging_actions: Stack,
) -> None:
    sender = f"webchat:{uuid.uuid4().hex}"
    replies, _ = say(hanging_actions, sender, "我要人工")
    assert replies == [HANDED_OFF["zh-Hans"]]
    assert hanging_actions.handoff is not None
    inbox = HandoffClient.admin(hanging_actions.handoff)
    seen = inbox.wait_for(sender, lambda c: c["status"] == "pending", what="the hand-off")
    assert seen["reason"] == "explicit_request"
    log = (hanging_actions.var_dir / "rasa.log").read_text(errors="replace")
    assert "did not answer within 2.0 s" in log
