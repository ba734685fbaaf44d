"""Who talks, under concurrency: the real Rasa (REST channel) and the real handoff service.

Principle 1 of the architecture: the bot never answers while people hold a
conversation, and always answers once it is handed back. Ten conversations
are handed off at once; each is bombarded with concurrent customer messages
while paused (no bot reply, every message in the service's record); then an
agent hands all ten back at once through the service's API while more
messages arrive (during each hand-back, and after it): every message sent
after its conversation's hand-back completed gets the bot's real answer,
and every message is in the service's record once.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.handoff_client import HandoffClient, customer_texts
from tests.support.summary import SUMMARY

pytestmark = pytest.mark.stack

CONVERSATIONS = 10
MESSAGES_WHILE_PAUSED = 5
PAUSED_TEXTS = ("订单20241105001到哪了", "你好", "还在吗？", "怎么没人回我", "退款什么时候到")
# Answered by the bot's own greeting: no custom action or shop involved, so
# an answer missing under load can only mean the bot stayed silent.
AFTER_TEXT = "你好"
AFTER_ANSWER = "智能客服"
ROUNDS_AFTER = 2


@dataclass
class Sent:
    """One customer message: when it was sent, and what Rasa answered."""

    sender: str
    text: str
    started: float
    replies: list[dict[str, Any]]


def _say(http: httpx.Client, rasa_url: str, sender: str, text: str) -> Sent:
    started = time.monotonic()
    answer = http.post(
        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    answer.raise_for_status()
    return Sent(sender, text, started, answer.json())


def _text(sent: Sent) -> str:
    return " ".join(reply.get("text", "") for reply in sent.replies)


def _bot_events_after_pause(http: httpx.Client, rasa_url: str, sender: str) -> list[str]:
    tracker = http.get(f"{rasa_url}/conversations/{sender}/tracker").json()
    paused, said = False, []
    for event in tracker["events"]:
        if event["event"] == "pause":
            paused = True
        elif event["event"] == "resume":
            paused = False
        elif event["event"] == "bot" and paused:
            said.append(event.get("text") or "")
    return said


def test_the_bot_is_silent_while_held_and_answers_after_concurrent_hand_backs(stack) -> None:
    assert stack.handoff is not None
    rasa = stack.rasa_url
    admin = HandoffClient.admin(stack.handoff)
    # Generous timeouts: ten conversations at once on a small, busy test machine.
    agent = HandoffClient(stack.handoff.url, *admin.create_agent(prefix="conc"), timeout_s=180)
    senders = [f"webchat:conc{uuid.uuid4().hex[:10]}" for _ in range(CONVERSATIONS)]
    http = httpx.Client(timeout=180, limits=httpx.Limits(max_connections=64))

    with ThreadPoolExecutor(max_workers=32) as pool:
        # 1. Ten conversations ask for a human at once.
        handoffs = list(pool.map(lambda s: _say(http, rasa, s, "转人工"), senders))
        # Told a human is coming (in a queue, or, when the service took longer
        # than HANDOFF_TIMEOUT, "a person will follow up": the event broker's
        # pause delivers it then); either way the service gets every one.
        for sent in handoffs:
            assert "您不用重复描述问题" in _text(sent), sent
        for sender in senders:
            agent.wait_for(sender, lambda c: c["status"] == "pending", what=f"{sender} pending")
        claims = list(pool.map(lambda s: agent.post(s, "assign"), senders))
        assert [c.status_code for c in claims] == [200] * CONVERSATIONS
        assert {c.json()["conversation"]["assignee"] for c in claims} == {agent.username}

        # 2. While the agent holds them: many concurrent messages, no bot reply.
        paused = [(s, t) for s in senders for t in PAUSED_TEXTS[:MESSAGES_WHILE_PAUSED]]
        while_held = list(pool.map(lambda st: _say(http, rasa, *st), paused))
        assert [s for s in while_held if s.replies] == []
        for sender in senders:
            expected = Counter(["转人工", *PAUSED_TEXTS[:MESSAGES_WHILE_PAUSED]])
            seen = agent.wait_for(
                sender,
                lambda c, e=expected: Counter(customer_texts(c)) == e,  # type: ignore[misc]
                what=f"every message of {sender} in the service's record",
            )
            assert seen["status"] == "open" and seen["assignee"] == agent.username
            assert _bot_events_after_pause(http, rasa, sender) == []

        # 3. Hand all back at once while customers keep writing: during each
        # hand-back, then once it has completed.
        def hand_back(sender: str) -> tuple[int, str, float, float]:
            started = time.monotonic()
            answer = agent.post(sender, "handback")
            body = answer.text if answer.status_code != 200 else ""
            return answer.status_code, body, started, time.monotonic()

        def write_after(sender: str, back: Future[tuple[int, str, float, float]]) -> list[Sent]:
            back.result()
            return [_say(http, rasa, sender, AFTER_TEXT) for _ in range(ROUNDS_AFTER)]

        backs = {s: pool.submit(hand_back, s) for s in senders}
        during = {
            s: [pool.submit(_say, http, rasa, s, AFTER_TEXT) for _ in range(2)] for s in senders
        }
        after = {s: pool.submit(write_after, s, backs[s]) for s in senders}
        results = {s: backs[s].result() for s in senders}
        written = {s: [f.result() for f in during[s]] + after[s].result() for s in senders}
    assert [r[:2] for r in results.values()] == [(200, "")] * CONVERSATIONS
    slowest = max(end - start for _, _, start, end in results.values())
    SUMMARY.append(f"handoff concurrency: {CONVERSATIONS} hand-backs, slowest {slowest:.1f} s")

    late: list[Sent] = []
    for sender in senders:
        completed = results[sender][3]
        later = [m for m in written[sender] if m.started > completed]
        assert len(later) >= ROUNDS_AFTER
        late += [m for m in later if AFTER_ANSWER not in _text(m)]
    assert late == [], "messages sent after the hand-back went unanswered"

    # Nothing lost: every message of every conversation is in the service's record.
    for sender in senders:
        expected = Counter(
            ["转人工", *PAUSED_TEXTS[:MESSAGES_WHILE_PAUSED]] + [m.text for m in written[sender]]
        )
        seen = agent.wait_for(
            sender,
            lambda c, e=expected: Counter(customer_texts(c)) == e,  # type: ignore[misc]
            what=f"every message of {sender} after the hand-back",
        )
        assert seen["status"] == "bot" and seen["assignee"] is None
