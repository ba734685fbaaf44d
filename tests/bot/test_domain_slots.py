"""The domain's slot mappings, run through Rasa's own slot extraction."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


async def _slots_set(text: str, intent: str, history: list[Event]) -> dict[str, object]:
    """The slots Rasa's extraction sets for ``text`` read as ``intent`` after ``history``."""
    tracker = DialogueStateTracker.from_events("someone", history, slots=DOMAIN.slots)
    tracker.update(
        UserUttered(text, intent={"name": intent, "confidence": 0.9}, parse_data={"text": text})
    )
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    events = await ActionExtractSlots(None).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)
    return {event.key: event.value for event in events if isinstance(event, SlotSet)}


def _in_form(asking: str) -> list[Event]:
    return [
        SlotSet("task", "refund"),
        ActiveLoop("order_form"),
        SlotSet("requested_slot", asking),
    ]


async def test_a_request_outside_the_form_sets_the_task() -> None:
    slots = await _slots_set("我要退款", "request_refund", [])
    assert slots["task"] == "refund"


async def test_a_new_task_while_asked_for_the_order_switches_it() -> None:
    """Before the order number, "actually, I want to return it" is a new task."""
    slots = await _slots_set("算了我要退货", "request_return", _in_form("order_id"))
    assert slots["task"] == "return"


@pytest.mark.parametrize(
    ("asking", "text", "intent"),
    [
        ("reason", "尺码买错了，穿不上", "report_defect"),
        ("reason", "I want to return it because it is broken", "request_return"),
        ("new_address", "改到上海市徐汇区漕溪北路88号，顺便催一下发货", "urge_shipment"),
    ],
)
async def test_an_answer_that_sounds_like_another_task_keeps_the_task(
    asking: str, text: str, intent: str
) -> None:
    """Asked for a reason or an address, the answer fills that slot; the task stays."""
    slots = await _slots_set(text, intent, _in_form(asking))
    assert "task" not in slots
    assert slots[asking] == text
