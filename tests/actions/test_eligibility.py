"""Every order status × case type through action_run_task, against the demo shop.

The assistant and the shop follow one table (bot.common.eligibility): an
eligible case is opened and repeated back; anything else is explained in the
customer's language with the order's status, and the shop holds no new case.
"""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.tasks import ActionRunTask
from actions.wording import ORDER_STATUS
from bot.common.eligibility import CASE_TYPES, ELIGIBILITY, Verdict
from demo_shop import seed
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()
STATUS_EXAMPLES = {
    "pending_payment": seed.ORDER_PENDING_PAYMENT,
    "paid": seed.ORDER_PAID_C1002,
    "shipped": seed.ORDER_SHIPPED,
    "delivered": seed.ORDER_DELIVERED_C1003,
    "completed": seed.ORDER_COMPLETED,
    "cancelled": seed.ORDER_CANCELLED,
}
EXPLANATION = {
    Verdict.NOT_PAID: ["utter_case_not_eligible"],
    Verdict.CANCELLED: ["utter_case_not_eligible"],
    Verdict.CANCEL_INSTEAD: ["utter_refund_cancel_instead"],
    Verdict.IN_TRANSIT: ["utter_refund_in_transit", "utter_tracking"],
    Verdict.NOT_DELIVERED: ["utter_case_needs_delivery"],
}


def _cases(shop: httpx.Client, order_id: str) -> list[dict]:
    cases: list[dict] = shop.get("/after-sales", params={"order_id": order_id}).json()["cases"]
    return cases


# Refusals in every language; an eligible case once per order and type (the
# shop then holds it, so a second language would meet an open case).
GRID = [
    (status, case_type, language)
    for status in ELIGIBILITY
    for case_type in CASE_TYPES
    for language in ("zh-Hans", "zh-Hant", "en")
    if ELIGIBILITY[status][case_type] is not Verdict.ELIGIBLE or language == "zh-Hans"
]


@pytest.mark.parametrize(("status", "case_type", "language"), GRID)
async def test_every_status_and_case_type(
    shop: httpx.Client, status: str, case_type: str, language: str
) -> None:
    order_id = STATUS_EXAMPLES[status]
    verdict = ELIGIBILITY[status][case_type]
    before = _cases(shop, order_id)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots={
            "task": case_type,
            "order_id": order_id,
            "reason": "尺码不合适",
            "language": language,
        }
    )
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    after = _cases(shop, order_id)

    if verdict is Verdict.ELIGIBLE:
        assert responses(dispatcher) == ["utter_case_created"]
        (new,) = [case for case in after if case not in before]
        assert (new["order_id"], new["type"], new["reason"]) == (order_id, case_type, "尺码不合适")
        told = dispatcher.messages[0]
        assert (told["case_id"], told["order_id"], told["reason"]) == (
            new["case_id"],
            order_id,
            "尺码不合适",
        )
        assert told["items"]  # the item names, so a wrong order shows at once
        return
    expected = EXPLANATION[verdict]
    if verdict is Verdict.NOT_DELIVERED and status == "shipped":
        # Where the parcel is, then a question: the latest tracking, or later.
        expected = [*expected, "utter_tracking", "utter_ask_after_delivery"]
        assert (events["awaiting_confirmation"], events["pending_action"]) == (True, "track")
    assert responses(dispatcher) == expected
    assert dispatcher.messages[0]["status"] == ORDER_STATUS[status][language]
    assert after == before  # nothing opened
    assert events.get("case_opened") is None
    if verdict is Verdict.CANCEL_INSTEAD:
        assert (events["awaiting_confirmation"], events["pending_action"]) == (True, "cancel")


async def test_a_refusal_by_the_shop_is_still_explained(shop: httpx.Client) -> None:
    """The order moved on since the form looked: the shop's 409 has the last word."""
    dispatcher = CollectingDispatcher()
    order_id = "20241109012"  # delivered
    first = {"order_id": order_id, "type": "refund", "reason": "不想要了"}
    assert shop.post("/after-sales", json=first).status_code == 201
    tracker = make_tracker(slots={"task": "refund", "order_id": order_id, "reason": "x"})
    events = slot_events(await ActionRunTask().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_case_not_eligible"]
    assert events.get("case_opened") is None
    assert len(_cases(shop, order_id)) == 1


async def test_a_parcel_on_its_way_asks_and_both_answers_work(shop: httpx.Client) -> None:
    """Return, exchange, repair of a shipped order: the tracking, then a question."""
    from actions.tasks import ActionConfirmPending, ActionDeclinePending

    for variant in DOMAIN["responses"]["utter_ask_after_delivery"]:
        assert [b["payload"] for b in variant["buttons"]] == ["/affirm", "/deny"]
    titles = [
        [b["title"] for b in v["buttons"]] for v in DOMAIN["responses"]["utter_ask_after_delivery"]
    ]
    assert titles == [
        ["查看物流", "收到后再申请"],
        ["查看物流", "收到後再申請"],
        ["Check tracking", "Ask after delivery"],
    ]
    slots = {
        "pending_action": "track",
        "awaiting_confirmation": True,
        "order_id": seed.ORDER_SHIPPED,
    }
    before = _cases(shop, seed.ORDER_SHIPPED)

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="affirm", slots={**slots, "language": "en"})
    events = slot_events(await ActionConfirmPending().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_tracking"]  # "查看物流": the latest scans
    assert dispatcher.messages[0]["tracking_no"] == "SF1234567890"
    assert events["awaiting_confirmation"] is False

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="deny", slots=slots)
    events = slot_events(await ActionDeclinePending().run(dispatcher, tracker, DOMAIN))
    assert responses(dispatcher) == ["utter_apply_after_delivery"]  # "收到后再申请"
    assert events["awaiting_confirmation"] is False
    assert _cases(shop, seed.ORDER_SHIPPED) == before  # nothing opened on a guess
