"""Order and after-sales tasks against the real demo shop."""

from __future__ import annotations

import time

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.tasks import ActionConfirmPending, ActionDeclinePending, ActionRunTask
from actions.wording import carrier_name
from demo_shop import seed
from tests.support.faulty import closed_port_url, failing_shop, hanging_shop
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()


async def run_task(task: str | None, order_id: str | None, **slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"task": task, "order_id": order_id, **slots})
    events = await ActionRunTask().run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


async def answer(action, pending: str, order_id: str, **slots):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="affirm",
        slots={
            "pending_action": pending,
            "awaiting_confirmation": True,
            "order_id": order_id,
            **slots,
        },
    )
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


async def test_order_status_is_told_in_the_customers_language(shop) -> None:
    dispatcher, events = await run_task("order_status", seed.ORDER_SHIPPED)
    assert responses(dispatcher) == ["utter_order_status"]
    message = dispatcher.messages[0]
    assert message["status"] == "已发货"
    assert message["items"] == "空气炸锅 4L ×1"
    assert message["total"] == "299.00 CNY"
    assert slot_events(events)["task"] is None  # the task is done

    dispatcher, _ = await run_task("order_status", seed.ORDER_SHIPPED, language="en")
    assert dispatcher.messages[0]["status"] == "shipped"


async def test_tracking_gives_carrier_number_eta_and_latest_scans(shop) -> None:
    dispatcher, _ = await run_task("track", seed.ORDER_SHIPPED)
    assert responses(dispatcher) == ["utter_tracking"]
    message = dispatcher.messages[0]
    assert message["carrier"] == "顺丰速运"
    assert message["tracking_no"] == "SF1234567890"
    assert message["eta"] == "2024-11-08"
    assert message["events"].splitlines()[0].endswith("派送中")


@pytest.mark.parametrize(
    ("order_id", "language", "carrier"),
    [
        (seed.ORDER_SHIPPED, "en", "SF Express"),
        ("20241113027", "en", "YTO Express"),
        ("JD8823419021", "en", "JD Logistics"),
        (seed.ORDER_SHIPPED, "zh-Hant", "順豐速運"),
        (seed.ORDER_SHIPPED, "zh-Hans", "顺丰速运"),
    ],
)
async def test_carrier_names_come_in_the_customers_language(
    shop, order_id: str, language: str, carrier: str
) -> None:
    dispatcher, _ = await run_task("track", order_id, language=language)
    assert dispatcher.messages[0]["carrier"] == carrier


def test_an_unknown_carrier_keeps_its_name() -> None:
    assert carrier_name("某某快运", "en") == "某某快运"
    assert carrier_name("EMS", "en") == "EMS"
    assert carrier_name("中通快递", "en") == "ZTO Express"


async def test_tracking_an_unshipped_order_says_so(shop) -> None:
    dispatcher, _ = await run_task("track", seed.ORDER_PAID)
    assert responses(dispatcher) == ["utter_not_shipped"]


async def test_cancel_asks_first_then_cancels_in_the_shop(shop: httpx.Client) -> None:
    dispatcher, events = await run_task("cancel", seed.ORDER_PAID)
    assert responses(dispatcher) == ["utter_confirm_cancel"]
    assert (
        slot_events(events).items()
        >= {"awaiting_confirmation": True, "pending_action": "cancel"}.items()
    )
    assert shop.get(f"/orders/{seed.ORDER_PAID}").json()["status"] == "paid"

    dispatcher, events = await answer(ActionConfirmPending(), "cancel", seed.ORDER_PAID)
    assert responses(dispatcher) == ["utter_cancelled"]
    assert slot_events(events)["awaiting_confirmation"] is False
    assert shop.get(f"/orders/{seed.ORDER_PAID}").json()["status"] == "cancelled"

    # A second yes meets the shop's 409 and is told plainly.
    dispatcher, _ = await answer(ActionConfirmPending(), "cancel", seed.ORDER_PAID)
    assert responses(dispatcher) == ["utter_already_cancelled"]


async def test_cancel_is_refused_clearly_once_shipped(shop: httpx.Client) -> None:
    dispatcher, events = await run_task("cancel", seed.ORDER_SHIPPED)
    assert responses(dispatcher) == ["utter_cancel_refused"]
    assert dispatcher.messages[0]["status"] == "已发货"
    assert "awaiting_confirmation" not in slot_events(events)
    assert shop.get(f"/orders/{seed.ORDER_SHIPPED}").json()["status"] == "shipped"


async def test_no_to_a_cancellation_keeps_the_order(shop: httpx.Client) -> None:
    dispatcher, _ = await answer(ActionDeclinePending(), "cancel", "20241112010")
    assert responses(dispatcher) == ["utter_change_kept"]
    assert shop.get("/orders/20241112010").json()["status"] == "paid"


async def test_address_change_asks_first_then_changes_it(shop: httpx.Client) -> None:
    new = "上海市徐汇区漕溪北路88号 张三 13800000000"
    dispatcher, events = await run_task("change_address", "20241110008", new_address=new)
    assert responses(dispatcher) == ["utter_confirm_address"]
    assert dispatcher.messages[0]["new_address"] == new
    assert slot_events(events)["pending_action"] == "change_address"

    dispatcher, _ = await answer(
        ActionConfirmPending(), "change_address", "20241110008", new_address=new
    )
    assert responses(dispatcher) == ["utter_address_changed"]
    assert shop.get("/orders/20241110008").json()["shipping"]["address"] == new


async def test_address_change_is_refused_once_shipped(shop: httpx.Client) -> None:
    dispatcher, _ = await run_task(
        "change_address", seed.ORDER_SHIPPED_JD, new_address="北京市海淀区1号"
    )
    assert responses(dispatcher) == ["utter_address_locked"]


@pytest.mark.parametrize(
    ("order_id", "expected"),
    [
        (seed.ORDER_PENDING_PAYMENT, ["utter_urge_unpaid"]),
        (seed.ORDER_CANCELLED, ["utter_already_cancelled"]),
        (seed.ORDER_SHIPPED, ["utter_urge_already_shipped", "utter_tracking"]),
    ],
)
async def test_urging_depends_on_the_order(shop, order_id: str, expected: list[str]) -> None:
    dispatcher, _ = await run_task("urge", order_id)
    assert responses(dispatcher) == expected


async def test_urging_a_paid_order_reaches_the_warehouse(shop) -> None:
    dispatcher, _ = await run_task("urge", "20241112010")
    assert responses(dispatcher) == ["utter_urged"]


async def test_refund_opens_a_case_and_tells_its_number(shop: httpx.Client) -> None:
    dispatcher, events = await run_task("refund", "20241111009", reason="不想要了")
    assert responses(dispatcher) == ["utter_case_created"]
    case_id = dispatcher.messages[0]["case_id"]
    opened = [e["value"] for e in events if e.get("name") == "case_opened"]
    assert opened == [{"case_id": case_id, "case_type": "refund", "order_id": "20241111009"}]
    assert dispatcher.messages[0]["case_type"] == "退款"
    case = shop.get(f"/after-sales/{case_id}").json()
    assert case["order_id"] == "20241111009"
    assert case["type"] == "refund"
    assert case["reason"] == "不想要了"


async def test_a_case_the_shop_refuses_is_explained(shop) -> None:
    dispatcher, events = await run_task(
        "return", seed.ORDER_PENDING_PAYMENT, reason="x", language="en"
    )
    assert responses(dispatcher) == ["utter_case_not_eligible"]
    assert not [e for e in events if e.get("name") == "case_opened"]
    assert dispatcher.messages[0]["case_type"] == "return"


async def test_refund_progress_by_case_number(shop) -> None:
    dispatcher, _ = await run_task("refund_progress", None, case_id=seed.CASE_REFUNDED)
    assert responses(dispatcher) == ["utter_case_status"]
    assert dispatcher.messages[0]["case_status"] == "已退款"

    dispatcher, _ = await run_task("refund_progress", None, case_id="AS-999999")
    assert responses(dispatcher) == ["utter_case_not_found"]


async def test_refund_progress_by_order(shop) -> None:
    dispatcher, _ = await run_task("refund_progress", seed.ORDER_COMPLETED)
    assert "utter_case_status" in responses(dispatcher)
    dispatcher, _ = await run_task("refund_progress", seed.ORDER_SHIPPED_JD)
    assert responses(dispatcher) == ["utter_no_cases"]


async def test_an_unknown_order_is_not_invented(shop) -> None:
    dispatcher, events = await run_task("track", "99999999999")
    assert responses(dispatcher) == ["utter_order_not_found"]
    slots = slot_events(events)
    assert slots["order_id"] is None
    assert slots["task"] == "track"  # the next number continues the task


async def test_an_order_number_without_a_task_asks_what_to_do(shop) -> None:
    dispatcher, _ = await run_task(None, seed.ORDER_SHIPPED)
    assert responses(dispatcher) == ["utter_ask_order_action"]


@pytest.mark.parametrize("outage", ["refused", "failing"])
async def test_a_shop_that_is_down_is_said_plainly_and_a_human_offered(use_shop, outage) -> None:
    if outage == "refused":
        use_shop(closed_port_url())
        dispatcher, events = await run_task("track", seed.ORDER_SHIPPED)
    else:
        with failing_shop() as url:
            use_shop(url)
            dispatcher, events = await run_task("track", seed.ORDER_SHIPPED)
    assert responses(dispatcher) == ["utter_shop_unavailable"]
    assert (
        slot_events(events).items()
        >= {
            "awaiting_confirmation": True,
            "pending_action": "handoff",
            "handoff_reason": "shop_unavailable",
        }.items()
    )


async def test_a_shop_that_hangs_times_out(use_shop) -> None:
    with hanging_shop() as url:
        use_shop(url, timeout_s=1.0)
        started = time.monotonic()
        dispatcher, _ = await run_task("order_status", seed.ORDER_SHIPPED)
        elapsed = time.monotonic() - started
    assert responses(dispatcher) == ["utter_shop_unavailable"]
    assert 0.9 <= elapsed < 2.5


async def test_a_yes_to_the_offer_hands_off_with_its_reason(shop, handoff_api) -> None:
    dispatcher, events = await answer(
        ActionConfirmPending(), "handoff", seed.ORDER_SHIPPED, handoff_reason="shop_unavailable"
    )
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert events[-1]["event"] == "pause"
    assert slot_events(events)["handoff_reason"] == "shop_unavailable"
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert sent["reason"] == "shop_unavailable"
    assert sent["slots"]["order_id"] == seed.ORDER_SHIPPED
    # The shop was just seen down: not asked again for the order's cases.
    assert sent["after_sales_cases"] == []
