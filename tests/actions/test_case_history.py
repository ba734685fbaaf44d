"""One case per problem (issue 17, point 3).

A follow-up while a case of the same order and type this conversation opened
is still open says that the case exists, with its id, and records the detail
in the conversation; no second case is opened.
"""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.order_form import ValidateOrderForm
from actions.tasks import ActionRunTask
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()
ORDER = "20241105020"  # delivered (yoga mat, shampoo), no case in the seed


def _cases(shop: httpx.Client) -> list[dict]:
    cases: list[dict] = shop.get("/after-sales", params={"order_id": ORDER}).json()["cases"]
    return cases


async def _repair(reason: str, history: list[dict], language: str = "zh-Hans"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        text=reason,
        intent="report_defect",
        slots={"task": "repair", "order_id": ORDER, "reason": reason, "language": language},
        history=history,
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    return dispatcher, events


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
async def test_a_follow_up_detail_joins_the_open_case(shop: httpx.Client, language: str) -> None:
    dispatcher, events = await _repair("瑜伽垫收到就开裂了", [], language)
    assert responses(dispatcher) == ["utter_case_created"]
    opened = events["case_opened"]
    history = [{"event": "slot", "name": "case_opened", "value": opened}]
    count = len(_cases(shop))

    dispatcher, events = await _repair("边上也起皮了", history, language)
    assert responses(dispatcher) == ["utter_case_exists"]
    told = dispatcher.messages[0]
    assert (told["case_id"], told["order_id"], told["detail"]) == (
        opened["case_id"],
        ORDER,
        "边上也起皮了",
    )
    assert told["case_type"] == {"zh-Hans": "维修", "zh-Hant": "維修", "en": "repair"}[language]
    assert events["case_followup"] == {
        "case_id": opened["case_id"],
        "case_type": "repair",
        "order_id": ORDER,
        "detail": "边上也起皮了",
    }
    assert events.get("case_opened") is None  # not counted as a new case
    assert len(_cases(shop)) == count  # no second case


async def test_another_type_or_another_conversation_opens_its_own_case(shop) -> None:
    dispatcher, events = await _repair("起皮了", [])
    history = [{"event": "slot", "name": "case_opened", "value": events["case_opened"]}]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={"task": "exchange", "order_id": ORDER, "reason": "换个颜色"}, history=history
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_case_created"]
    assert events["case_opened"]["case_type"] == "exchange"


async def test_a_follow_up_on_the_case_just_opened_needs_no_order_confirmation(shop) -> None:
    opened = {"case_id": "AS-000999", "case_type": "repair", "order_id": ORDER}
    tracker = make_tracker(
        text="左键失灵",
        intent="report_defect",
        slots={"task": "repair", "order_id": ORDER, "order_status": "delivered"},
        history=[{"event": "slot", "name": "case_opened", "value": opened}],
        active_loop="order_form",
    )
    slots = slot_events(await ValidateOrderForm().run(CollectingDispatcher(), tracker, DOMAIN))
    assert slots["reason"] == "左键失灵"
    assert slots["requested_slot"] is None  # straight to the existing case
