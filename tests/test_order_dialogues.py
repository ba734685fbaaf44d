"""Issue 21 through the REST channel of a live stack: the order acted on is the order meant.

Checked on the shop's state (which cases exist for which order, with which
reason), not on wording. Each test diffs the shop's cases around its own
conversation, so that other tests' cases on the same orders do not matter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import httpx
import pytest

from demo_shop import seed

pytestmark = pytest.mark.stack

Case = tuple[str, str, str]  # order, type, reason


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    return httpx.Client(timeout=60)


def _cases(client: httpx.Client, shop_url: str, order_ids: Iterable[str]) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for order_id in order_ids:
        response = client.get(f"{shop_url}/after-sales", params={"order_id": order_id})
        response.raise_for_status()
        for case in response.json()["cases"]:
            cases[case["case_id"]] = (case["order_id"], case["type"], case["reason"])
    return cases


def converse(client: httpx.Client, stack, texts: list[str], watched: Iterable[str]):
    """Sends ``texts`` in one new conversation; returns the cases it opened and the replies."""
    watched = list(watched)
    before = _cases(client, stack.shop_url, watched)
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    replies: list[list[dict]] = []
    for text in texts:
        response = client.post(
            f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        response.raise_for_status()
        replies.append(response.json())
    after = _cases(client, stack.shop_url, watched)
    opened = sorted(case for case_id, case in after.items() if case_id not in before)
    return opened, replies


def _said(replies: list[dict]) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


def _buttons(replies: list[dict]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]


# The issue's two conversations verbatim, and the same in Traditional Chinese.
ISSUE_CONVERSATIONS = [
    (
        ["订单20241105001到哪了", "我要退款", "20241111009", "尺码不合适"],
        ("20241111009", "refund", "尺码不合适"),
    ),
    (
        ["where is my order 20241105001", "I want to return something", "20241101004", "too small"],
        ("20241101004", "return", "too small"),
    ),
    (
        ["訂單20241105001到哪裡了", "我要換貨", "20241020005", "鞋子尺碼太小了"],
        ("20241020005", "exchange", "鞋子尺碼太小了"),
    ),
]


@pytest.mark.parametrize(("texts", "expected"), ISSUE_CONVERSATIONS)
def test_another_order_number_switches_the_order_and_is_no_reason(
    stack, client, texts: list[str], expected: Case
) -> None:
    order_id = expected[0]
    opened, replies = converse(client, stack, texts, [seed.ORDER_SHIPPED, order_id])
    # The carried-over order is named, with yes / another order.
    assert seed.ORDER_SHIPPED in _said(replies[1])
    assert _buttons(replies[1]) == ["/affirm", "/deny"]
    assert opened == [expected]  # the order meant, with the reason given; nothing else


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["订单20241101004是什么状态", "我要退货", "是", "内胆涂层掉了"], "内胆涂层掉了"),
        (["訂單20241101004是什麼狀態", "我要退貨", "是", "內膽塗層掉了"], "內膽塗層掉了"),
        (["status of order 20241101004", "I want to return it", "yes", "the coating peels"], None),
    ],
)
def test_yes_keeps_the_carried_over_order(
    stack, client, texts: list[str], expected: str | None
) -> None:
    opened, replies = converse(client, stack, texts, [seed.ORDER_DELIVERED])
    assert seed.ORDER_DELIVERED in _said(replies[1])
    reason = expected or texts[-1]
    assert opened == [(seed.ORDER_DELIVERED, "return", reason)]


@pytest.mark.parametrize(
    "texts",
    [
        ["订单20241105001到哪了", "我要换货", "其他订单", "20241109012", "想换成软一点的"],
        ["訂單20241105001到哪裡了", "我要換貨", "/deny", "20241109012", "想換成軟一點的"],
        ["where is order 20241105001", "I'd like an exchange", "no", "20241109012", "too firm"],
    ],
)
def test_another_order_asks_for_it(stack, client, texts: list[str]) -> None:
    opened, _ = converse(client, stack, texts, [seed.ORDER_SHIPPED, "20241109012"])
    assert opened == [("20241109012", "exchange", texts[-1])]


@pytest.mark.parametrize(
    "texts",
    [
        ["我要退货，订单20241105001"],  # shipped: not delivered yet
        ["訂單20241105001的東西壞了，要維修"],
        ["I want to return order 20241107003"],  # awaiting payment
        ["refund order 20241108006"],  # cancelled
    ],
)
def test_an_ineligible_request_opens_nothing_and_asks_no_reason(
    stack, client, texts: list[str]
) -> None:
    order_ids = [seed.ORDER_SHIPPED, seed.ORDER_PENDING_PAYMENT, seed.ORDER_CANCELLED]
    opened, replies = converse(client, stack, texts, order_ids)
    assert opened == []
    body = _said(replies[0])
    assert any(status in body for status in ("已发货", "已發貨", "awaiting payment", "cancelled"))


def test_a_refund_of_an_unshipped_order_offers_cancelling(stack, client) -> None:
    order_id = seed.ORDER_PAID_C1003
    opened, replies = converse(client, stack, [f"订单{order_id}我要退款"], [order_id])
    assert opened == []
    assert _buttons(replies[0]) == ["/affirm", "/deny"]
    assert client.get(f"{stack.shop_url}/orders/{order_id}").json()["status"] == "paid"


def test_several_orders_in_one_message_ask_which_first(stack, client) -> None:
    texts = [
        "20241105001 和 20241111009 都要退货",
        '/inform_order_id{"order_id": "20241111009"}',
        "颜色和图片不一样",
    ]
    opened, replies = converse(client, stack, texts, [seed.ORDER_SHIPPED, "20241111009"])
    assert opened == [("20241111009", "return", "颜色和图片不一样")]  # the one chosen, no guess
    assert _buttons(replies[0]) == [
        '/inform_order_id{"order_id": "20241105001"}',
        '/inform_order_id{"order_id": "20241111009"}',
    ]
