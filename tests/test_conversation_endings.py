"""Issue 17 through the REST channel of a live stack: conversations that end well.

The issue's conversations, in zh-Hans, zh-Hant and en, checked on the shop's
state (which cases exist for which order, with which reason) and on the
conversation's tracker (hand-off reason, what is still asked), not on wording.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.conversations import Case, buttons, converse, said

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    return httpx.Client(timeout=60)


def _tracker(client: httpx.Client, stack, sender: str) -> dict:
    response = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker")
    response.raise_for_status()
    tracker: dict = response.json()
    return tracker


# Point 1: "不想要了" and its kin are reasons (the conversation first).
REASONS = [
    (["我要退款", "20241014011", "不想要了"], ("20241014011", "refund", "不想要了")),
    (["我要退貨", "20241025019", "不喜歡"], ("20241025019", "return", "不喜歡")),
    (
        ["I want to return something", "20241105020", "bought too many"],
        ("20241105020", "return", "bought too many"),
    ),
    (
        ["I'd like a refund", "20241104025", "don't need it anymore"],
        ("20241104025", "refund", "don't need it anymore"),
    ),
    (["我要换货", "20241022022", "买多了"], ("20241022022", "exchange", "买多了")),
]


@pytest.mark.parametrize(("texts", "expected"), REASONS)
def test_a_reason_that_sounds_like_no_is_the_reason(
    stack, client, texts: list[str], expected: Case
) -> None:
    opened, _ = converse(client, stack, texts, [expected[0]])
    assert opened == [expected]


@pytest.mark.parametrize(
    ("texts", "order_id"),
    [
        (["订单20241025019要换货", "算了", "是的"], "20241025019"),
        (["訂單20241025019要換貨", "算了吧", "/affirm"], "20241025019"),
        (["exchange order 20241025019", "never mind", "yes"], "20241025019"),
    ],
)
def test_an_explicit_stop_asks_once_and_yes_drops_it(
    stack, client, texts: list[str], order_id: str
) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    opened, replies = converse(client, stack, texts, [order_id], sender=sender)
    assert opened == []
    assert buttons(replies[1]) == ["/affirm", "/deny"]  # asked once
    tracker = _tracker(client, stack, sender)
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    assert tracker["slots"]["task"] is None


def test_no_to_drop_it_goes_on_with_the_request(stack, client) -> None:
    texts = ["订单20241030028要换货", "算了", "/deny", "颜色不喜欢"]
    opened, _ = converse(client, stack, texts, ["20241030028"])
    assert opened == [("20241030028", "exchange", "颜色不喜欢")]


# Point 3: one case per problem (the conversation, on a delivered order).
FOLLOW_UPS = [
    (["鼠标收到就坏了，左键按不动，订单20241109012", "左键失灵"], "20241109012"),
    (["訂單20241028026的東西收到就壞了，按鍵按不動", "按鍵失靈"], "20241028026"),
    (
        ["order 20241030028 arrived broken, the lid won't close", "the hinge is cracked too"],
        "20241030028",
    ),
]


@pytest.mark.parametrize(("texts", "order_id"), FOLLOW_UPS)
def test_a_follow_up_detail_opens_no_second_case(
    stack, client, texts: list[str], order_id: str
) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    opened, replies = converse(client, stack, texts, [order_id], sender=sender)
    assert [(case[0], case[1]) for case in opened] == [(order_id, "repair")]  # one case
    tracker = _tracker(client, stack, sender)
    followup = tracker["slots"]["case_followup"]
    assert followup["order_id"] == order_id and followup["case_type"] == "repair"
    assert followup["detail"] == texts[1]  # the detail, recorded in the conversation
    assert followup["case_id"] in said(replies[1])  # the existing case, by its id


# Point 7: carrier names in English replies.
@pytest.mark.parametrize(
    ("text", "carrier"),
    [
        ("where is order 20241109012", "ZTO Express"),
        ("track order 20241105001", "SF Express"),
        ("订单20241109012到哪了", "中通快递"),
        ("訂單20241105001到哪裡了", "順豐速運"),
    ],
)
def test_carrier_names_in_the_customers_language(stack, client, text: str, carrier: str) -> None:
    _, replies = converse(client, stack, [text], [])
    assert carrier in said(replies[0])


# Point 2: the escalation ladder (the conversation first).
LADDER = [
    ["qwpoeiruty zxmcnv", "lkjhg asdfpoiu", "zzxq pqowie"],
    ["講個笑話給我聽", "今天天氣怎麼樣", "推薦一部電影"],
    ["who won the football match last night", "what's the capital of France", "sing a song"],
]


@pytest.mark.parametrize("texts", LADDER)
def test_two_unhelpful_turns_offer_a_person_the_third_hands_off(
    stack, client, texts: list[str]
) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    _, replies = converse(client, stack, texts[:2], [], sender=sender)
    assert "/affirm" not in buttons(replies[0])  # the first: no offer yet
    assert buttons(replies[1])[-2:] == ["/affirm", "/deny"]  # the second: a person?
    tracker = _tracker(client, stack, sender)
    assert tracker["slots"]["pending_action"] == "handoff"
    assert tracker["paused"] is False
    converse(client, stack, texts[2:], [], sender=sender)
    tracker = _tracker(client, stack, sender)
    assert tracker["paused"] is True  # the third: handed off
    assert tracker["slots"]["handoff_reason"] in ("unresolved", "repeated_misunderstanding")


def test_yes_to_the_offer_hands_off_and_a_good_answer_resets_the_count(stack, client) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    converse(client, stack, ["qwpoeiruty zxmcnv", "你好", "lkjhg asdfpoiu"], [], sender=sender)
    tracker = _tracker(client, stack, sender)
    assert tracker["slots"]["pending_action"] is None  # reset by the greeting: no offer
    converse(client, stack, ["zzxq pqowie", "/affirm"], [], sender=sender)
    tracker = _tracker(client, stack, sender)
    assert tracker["paused"] is True
    assert tracker["slots"]["handoff_reason"] in ("unresolved", "repeated_misunderstanding")


@pytest.mark.parametrize(
    "texts",
    [
        ["我的快递到哪了", "讲个笑话", "今天天气怎么样", "/affirm"],
        ["where is my parcel", "who won the football match last night", "sing a song", "yes"],
    ],
)
def test_the_ladder_inside_the_order_form_offers_and_yes_hands_off(
    stack, client, texts: list[str]
) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    _, replies = converse(client, stack, texts[:3], [], sender=sender)
    assert buttons(replies[2])[-2:] == ["/affirm", "/deny"]  # a person?
    converse(client, stack, texts[3:], [], sender=sender)
    tracker = _tracker(client, stack, sender)
    assert tracker["paused"] is True  # the yes reached the offer, not the form
    assert tracker["slots"]["handoff_reason"] == "unresolved"
