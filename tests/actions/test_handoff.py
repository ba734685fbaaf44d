"""Handing off: reasons, pausing, the service's answer (the ladder there: test_escalation.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, describe_opening, describe_wait
from actions.language import ActionDetectLanguage
from demo_shop.seed import CASE_REFUNDED, ORDER_COMPLETED
from tests.support.faulty import closed_port_url
from tests.support.handoff_api import QUEUED, Answer, HandoffApi
from tests.support.trackers import load_domain, make_tracker, responses, slot_events

DOMAIN = load_domain()


@pytest.mark.parametrize(
    ("text", "intent", "reason"),
    [
        ("转人工", "request_human", "explicit_request"),
        ("我要投诉你们", "complain", "complaint"),
        ("再不处理我就找律师起诉你们", "complain", "sensitive_topic"),
        ("the kettle burned my hand", "report_defect", "sensitive_topic"),
    ],
)
async def test_handoff_records_why_and_pauses(text: str, intent: str, reason: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, make_tracker(text=text, intent=intent), DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert slot_events(events)["handoff_reason"] == reason
    assert events[-1]["event"] == "pause"


async def test_asking_for_a_human_after_an_outage_names_the_outage() -> None:
    history = [
        {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_shop_unavailable"}}
    ]
    tracker = make_tracker(text="人工", intent="request_human", history=history)
    events = await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    assert slot_events(events)["handoff_reason"] == "shop_unavailable"


async def test_handoff_closes_an_open_form() -> None:
    tracker = make_tracker(text="人工", intent="request_human", active_loop="order_form")
    events = await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
    ]


async def test_language_slot_follows_each_message() -> None:
    action = ActionDetectLanguage()
    tracker = make_tracker(text="where is my parcel", slots={"language": "zh-Hans"})
    slots = slot_events(await action.run(CollectingDispatcher(), tracker, DOMAIN))
    assert slots["language"] == "en"
    assert set(slots) == {"language", "anger_score"}  # scored too (tests/actions/test_language.py)
    tracker = make_tracker(text="20241105001", slots={"language": "en"})
    # An order number: the language stays, and it has no words to score.
    assert slot_events(await action.run(CollectingDispatcher(), tracker, DOMAIN)) == {
        "anger_score": None
    }


# --- the handoff service: context sent, queue told ---------------------------------

REFUND_HISTORY = [
    {"event": "action", "name": "action_listen"},
    {
        "event": "user",
        "text": "我要退款，订单20241020005",
        "timestamp": 1700000000.0,
        "input_channel": "telegram",
        "parse_data": {
            "intent": {"name": "request_refund", "confidence": 0.91},
            "entities": [{"entity": "order_id", "value": "20241020005"}],
        },
    },
    {"event": "slot", "name": "order_id", "value": "20241020005"},
    {"event": "action", "name": "order_form"},
    {
        "event": "bot",
        "text": "请问退款的原因是什么？",
        "timestamp": 1700000001.0,
        "metadata": {"utter_action": "utter_ask_reason"},
    },
]


def refund_tracker(language: str = "zh-Hans", sender: str = "telegram:42"):
    return make_tracker(
        text="转人工",
        intent="request_human",
        history=REFUND_HISTORY,
        slots={"order_id": ORDER_COMPLETED, "language": language, "task": "refund"},
        sender=sender,
    )


async def test_the_service_gets_the_whole_context_and_the_customer_their_place(
    shop, handoff_api: HandoffApi
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, refund_tracker(), DOMAIN)

    [request] = handoff_api.requests
    assert request.path == "/api/internal/handoffs"
    assert request.headers["authorization"] == f"Bearer {handoff_api.token}"
    sent = request.body
    assert sent["conversation_id"] == "telegram:42"
    assert sent["channel"] == "telegram"
    assert sent["reason"] == "explicit_request"
    assert sent["intent"] == "request_refund"
    assert sent["language"] == "zh-Hans"
    assert sent["slots"] | {"order_id": ORDER_COMPLETED, "language": "zh-Hans"} == sent["slots"]
    assert sent["intents"] == [
        {
            "text": "我要退款，订单20241020005",
            "intent": "request_refund",
            "confidence": 0.91,
            "timestamp": 1700000000.0,
        },
        {"text": "转人工", "intent": "request_human", "confidence": 0.9, "timestamp": None},
    ]
    assert [(t["role"], t["text"]) for t in sent["transcript"]] == [
        ("customer", "我要退款，订单20241020005"),
        ("bot", "请问退款的原因是什么？"),
        ("customer", "转人工"),
    ]
    assert sent["summary"] == (
        "转人工原因：客户要求转人工。诉求：申请退款。订单号：20241020005。客户最后说：“转人工”。"
    )
    assert sent["after_sales_cases"] == [
        {
            "case_id": CASE_REFUNDED,
            "type": "refund",
            "status": "refunded",
            "order_id": ORDER_COMPLETED,
        }
    ]

    [told] = dispatcher.messages
    assert told["response"] == "utter_handoff_queued"
    assert (told["queue_position"], told["expected_wait"]) == (2, "约4分钟")
    assert events[-1]["event"] == "pause"


@pytest.mark.parametrize(
    ("language", "next_open"),
    [("zh-Hans", "11月9日 09:00"), ("zh-Hant", "11月9日 09:00"), ("en", "on 9 Nov at 09:00")],
)
async def test_outside_business_hours_the_customer_hears_when_someone_answers(
    handoff_api: HandoffApi, language: str, next_open: str
) -> None:
    handoff_api.answer_next(
        Answer(
            201,
            QUEUED
            | {
                "queue_position": 5,
                "agents_online": 0,
                "business_hours_open": False,
                "next_open_at": "2024-11-09T09:00:00+08:00",
            },
        )
    )
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="人工", intent="request_human", slots={"language": language})
    events = await ActionHandoff().run(dispatcher, tracker, DOMAIN)
    [told] = dispatcher.messages
    assert (told["response"], told["next_open"]) == ("utter_handoff_after_hours", next_open)
    assert events[-1]["event"] == "pause"
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert sent["language"] == language


async def test_with_nobody_online_the_customer_hears_it_waits_as_a_ticket(
    handoff_api: HandoffApi,
) -> None:
    handoff_api.answer_next(Answer(201, QUEUED | {"agents_online": 0, "queue_position": 1}))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="我要投诉你们", intent="complain", sender="wechat:oUser1")
    events = await ActionHandoff().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff_no_agents"]
    assert events[-1]["event"] == "pause"
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert (sent["channel"], sent["reason"], sent["intent"]) == ("wechat", "complaint", "complain")
    assert sent["after_sales_cases"] == []  # no order in the conversation


@pytest.mark.parametrize("failure", ["refused", "503", "403", "hangs", "nonsense"])
async def test_a_service_that_cannot_take_it_still_pauses_and_promises_a_follow_up(
    handoff_api: HandoffApi, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    monkeypatch.setenv("HANDOFF_TIMEOUT", "1")
    if failure == "refused":
        monkeypatch.setenv("HANDOFF_URL", closed_port_url())
    elif failure == "403":
        monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "not-the-token")
    else:
        answers = {
            "503": Answer(503),
            "hangs": Answer(201, QUEUED, delay_s=3),
            "nonsense": Answer(201, {"queue": "?"}),
        }
        handoff_api.answer_next(answers[failure])
    dispatcher = CollectingDispatcher()
    started = time.monotonic()
    events = await ActionHandoff().run(dispatcher, refund_tracker(language="en"), DOMAIN)
    assert time.monotonic() - started < 2.5
    assert responses(dispatcher) == ["utter_handoff_follow_up"]
    assert slot_events(events)["handoff_reason"] == "explicit_request"
    assert events[-1]["event"] == "pause"


async def test_plain_ids_take_their_channel_from_the_message_and_faqs_their_key(
    handoff_api: HandoffApi,
) -> None:
    history = [
        {
            "event": "user",
            "text": "can I get an invoice",
            "input_channel": "rest",
            "parse_data": {
                "intent": {"name": "faq", "confidence": 0.8},
                "response_selector": {"faq": {"response": {"intent_response_key": "faq/invoice"}}},
            },
        }
    ]
    tracker = make_tracker(
        text="human please",
        intent="request_human",
        history=history,
        slots={"language": "en"},
        sender="d41d8cd98f00",
    )
    await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert (sent["channel"], sent["intent"]) == ("rest", "faq/invoice")
    assert sent["summary"] == (
        "Reason: the customer asked for a person. Request: FAQ question (invoice)."
        ' Last message: "human please".'
    )


def test_waits_and_openings_in_the_customers_words() -> None:
    assert describe_wait(30, "zh-Hans") == "不到1分钟"
    assert describe_wait(61, "zh-Hant") == "約2分鐘"
    assert describe_wait(60, "en") == "about 1 minute"
    assert describe_wait(7200, "en") == "about 2 hours"
    now = datetime(2024, 11, 8, 22, 0, tzinfo=timezone(timedelta(hours=8)))
    assert describe_opening("2024-11-09T09:00:00+08:00", "zh-Hans", now) == "明天 09:00"
    assert describe_opening("2024-11-08T23:30:00+08:00", "en", now) == "today at 23:30"
    # 22:00 in Shanghai is 14:00 UTC: the service's zone decides what "tomorrow" is.
    assert describe_opening("2024-11-09T01:00:00Z", "en", now) == "tomorrow at 01:00"
    assert describe_opening("soon", "en", now) is None
    assert describe_opening(None, "en", now) is None


async def test_the_hand_off_carries_the_angriest_score_of_the_session(
    handoff_api: HandoffApi,
) -> None:
    history = [
        {"event": "slot", "name": "anger_score", "value": 0.99},  # an earlier session
        {"event": "session_started"},
        {"event": "user", "text": "气死我了，还不发货！"},
        {"event": "slot", "name": "anger_score", "value": 0.91},
        {"event": "user", "text": "转人工"},
        {"event": "slot", "name": "anger_score", "value": 0.12},
    ]
    tracker = make_tracker(text="转人工", intent="request_human", history=history)
    await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert sent["anger_score"] == 0.91


async def test_without_scores_the_hand_off_has_none(handoff_api: HandoffApi) -> None:
    tracker = make_tracker(text="转人工", intent="request_human")
    await ActionHandoff().run(CollectingDispatcher(), tracker, DOMAIN)
    [sent] = handoff_api.received("/api/internal/handoffs")
    assert sent["anger_score"] is None
