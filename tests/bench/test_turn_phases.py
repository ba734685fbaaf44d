"""Splitting turns into phases by the timestamps on a real Rasa conversation's events."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from bench.turn_phases import TimedTurn, TrackerMismatch, conversation_phases, medians, phases
from tests.support.processes import Stack

SCRIPT = ("你好", "订单20241105001到哪了")


async def _played(stack: Stack, sender: str) -> list[TimedTurn]:
    turns = []
    async with httpx.AsyncClient(timeout=60) as http:
        for text in SCRIPT:
            sent_at = time.time()
            response = await http.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
            )
            response.raise_for_status()
            assert response.json(), f"no reply to {text!r}"
            turns.append(TimedTurn(sent_at, time.time()))
    return turns


async def test_each_turn_splits_into_positive_phases_at_its_own_messages(stack: Stack) -> None:
    sender = f"phases-{uuid.uuid4().hex[:12]}"
    turns = await _played(stack, sender)
    async with httpx.AsyncClient(timeout=30) as http:
        split = await conversation_phases(http, stack.rasa_url, sender, turns)
    assert len(split) == len(SCRIPT)
    for turn, phase in zip(turns, split, strict=True):
        # Splitting at the wrong user message would make a phase negative:
        # a bot message of the next turn comes after this turn's reply arrived.
        assert phase.inbound_ms > 0 and phase.answer_ms > 0 and phase.delivery_ms > 0
        total_ms = phase.inbound_ms + phase.answer_ms + phase.delivery_ms
        assert total_ms == pytest.approx((turn.done_at - turn.sent_at) * 1000)
    # The order lookup calls the action server and the shop; the greeting does not.
    assert split[1].answer_ms > split[0].answer_ms


def test_a_tracker_with_other_turns_is_refused() -> None:
    events = [
        {"event": "action", "timestamp": 10.0},
        {"event": "user", "timestamp": 10.1},
        {"event": "bot", "timestamp": 10.2},
        {"event": "user", "timestamp": 11.1},
    ]
    one_turn = [TimedTurn(10.0, 10.3)]
    with pytest.raises(TrackerMismatch, match="2 user messages"):
        phases(events, one_turn)
    unanswered = [TimedTurn(10.0, 10.3), TimedTurn(11.0, 11.3)]
    with pytest.raises(TrackerMismatch, match="no bot message"):
        phases(events, unanswered)


def test_medians_are_taken_per_phase() -> None:
    events = [
        {"event": "user", "timestamp": 1.010},
        {"event": "bot", "timestamp": 1.030},
        {"event": "bot", "timestamp": 1.050},
        {"event": "action", "timestamp": 1.060},
        {"event": "user", "timestamp": 2.020},
        {"event": "bot", "timestamp": 2.030},
        {"event": "user", "timestamp": 3.030},
        {"event": "bot", "timestamp": 3.130},
    ]
    turns = [TimedTurn(1.000, 1.055), TimedTurn(2.000, 2.040), TimedTurn(3.000, 3.150)]
    split = phases(events, turns)
    # The last bot message of each turn counts, not the first.
    assert [round(p.answer_ms) for p in split] == [40, 10, 100]
    middle = medians(split)
    assert round(middle.inbound_ms) == 20
    assert round(middle.answer_ms) == 40
    assert round(middle.delivery_ms) == 10
