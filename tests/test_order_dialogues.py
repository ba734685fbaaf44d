"""Issue 21 through the REST channel of a live stack: the order acted on is the order meant.

Checked on the shop's state (which cases exist for which order, with which
reason), not on wording. Each test diffs the shop's cases around its own
conversation, so that other tests' cases on the same orders do not matter.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from demo_shop import seed
from tests.support.conversations import Case, buttons, converse, said

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    return httpx.Client(timeout=60)


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
    assert seed.ORDER_SHIPPED in said(replies[1])
    assert buttons(replies[1]) == ["/affirm", "/deny"]
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
    assert seed.ORDER_DELIVERED in said(replies[1])
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
    body = said(replies[0])
    assert any(status in body for status in ("已发货", "已發貨", "awaiting payment", "cancelled"))


def test_a_refund_of_an_unshipped_order_offers_cancelling(stack, client) -> None:
    order_id = seed.ORDER_PAID_C1003
    opened, replies = converse(client, stack, [f"订单{order_id}我要退款"], [order_id])
    assert opened == []
    assert buttons(replies[0]) == ["/affirm", "/deny"]
    assert client.get(f"{stack.shop_url}/orders/{order_id}").json()["status"] == "paid"


def test_several_orders_in_one_message_ask_which_first(stack, client) -> None:
    texts = [
        "20241105001 和 20241111009 都要退货",
        '/inform_order_id{"order_id": "20241111009"}',
        "颜色和图片不一样",
    ]
    opened, replies = converse(client, stack, texts, [seed.ORDER_SHIPPED, "20241111009"])
    assert opened == [("20241111009", "return", "颜色和图片不一样")]  # the one chosen, no guess
    assert buttons(replies[0]) == [
        '/inform_order_id{"order_id": "20241105001"}',
        '/inform_order_id{"order_id": "20241111009"}',
    ]


# Point 3's "and asks": a return, exchange or repair of a parcel on its way.
ON_ITS_WAY = [
    (["订单20241110017我要退货", "/affirm"], "20241110017", "SF1401357924"),
    (["訂單20241113027要換貨", "查看物流"], "20241113027", "YT7411223344556"),
    (["I want to return order JD8823419021", "yes"], "JD8823419021", "JDX000198765432"),
]


@pytest.mark.parametrize(("texts", "order_id", "tracking_no"), ON_ITS_WAY)
def test_a_parcel_on_its_way_is_tracked_and_the_bot_asks(
    stack, client, texts: list[str], order_id: str, tracking_no: str
) -> None:
    opened, replies = converse(client, stack, texts, [order_id])
    assert opened == []  # nothing opened on a guess
    assert tracking_no in said(replies[0])  # where the parcel is
    assert buttons(replies[0]) == ["/affirm", "/deny"]  # and a question
    assert tracking_no in said(replies[1])  # "查看物流": the latest tracking


@pytest.mark.parametrize(
    "texts",
    [
        ["订单20241110017我要退货", "/deny"],
        ["訂單20241113027的東西壞了要維修", "收到後再申請"],
        ["exchange order JD8823419021 please", "no"],
    ],
)
def test_asking_again_after_delivery_opens_nothing(stack, client, texts: list[str]) -> None:
    order_ids = ["20241110017", "20241113027", "JD8823419021"]
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    opened, _ = converse(client, stack, texts, order_ids, sender=sender)
    assert opened == []
    tracker = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker").json()
    assert tracker["slots"]["awaiting_confirmation"] is False  # the question is answered
    assert tracker["slots"]["task"] is None


# Point 4's "handles both in turn": after the chosen order's case, the other one.
IN_TURN = [
    (
        [
            "20241104025 和 20241028026 都要退货",
            '/inform_order_id{"order_id": "20241104025"}',
            "买多了",
            "好的",
            "不喜欢",
        ],
        [("20241028026", "return", "不喜欢"), ("20241104025", "return", "买多了")],
    ),
    (
        [
            "20241030028 和 20241022022 都要換貨",
            '/inform_order_id{"order_id": "20241022022"}',
            "尺碼太小",
            "/affirm",
            "顏色不對",
        ],
        [("20241022022", "exchange", "尺碼太小"), ("20241030028", "exchange", "顏色不對")],
    ),
    (
        [
            "I want to return 20241030028 and 20241028026",
            "20241030028",
            "too big",
            "yes",
            "wrong colour",
        ],
        [("20241028026", "return", "wrong colour"), ("20241030028", "return", "too big")],
    ),
]


@pytest.mark.parametrize(("texts", "expected"), IN_TURN)
def test_several_orders_are_handled_in_turn(
    stack, client, texts: list[str], expected: list[Case]
) -> None:
    order_ids = sorted({case[0] for case in expected})
    opened, replies = converse(client, stack, texts, order_ids)
    assert opened == expected  # both, each with its own reason
    assert buttons(replies[2]) == ["/affirm", "/deny"]  # "and the other one?"


def test_no_to_the_other_order_opens_only_the_first(stack, client) -> None:
    texts = [
        "20241104025 和 20241028026 都要换货",
        '/inform_order_id{"order_id": "20241028026"}',
        "有点小",
        "不用了",
    ]
    opened, _ = converse(client, stack, texts, ["20241104025", "20241028026"])
    assert opened == [("20241028026", "exchange", "有点小")]
