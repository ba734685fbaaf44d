"""The trainers' queue: every reason lands in it, grouping, labelling, undo, export, roles."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from handoff.services.annotations.normalize import normalize, similar
from handoff.services.annotations.reasons import Reason, read_ranking
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import bot_event, handoff_body, service_headers

MakeAgent = Callable[..., dict[str, str]]


def parsed_event(
    cid: str, text_: str, ts: float, ranking: list[tuple[str, float]], *, fallback: float = 0.4
) -> dict[str, Any]:
    """A ``user`` event as Rasa publishes it; ``nlu_fallback`` first when the top is low or
    the top two are within 0.1 (Rasa's FallbackClassifier with ambiguity_threshold 0.1)."""
    ranked = [{"name": name, "confidence": conf} for name, conf in ranking]
    top = ranked[0]["confidence"]
    runner_up = ranked[1]["confidence"] if len(ranked) > 1 else 0.0
    if top < fallback or top - runner_up < 0.1:
        ranked = [{"name": "nlu_fallback", "confidence": fallback}, *ranked]
    return {
        "sender_id": cid,
        "event": "user",
        "timestamp": ts,
        "text": text_,
        "input_channel": cid.split(":")[0],
        "message_id": uuid.uuid4().hex,
        "parse_data": {
            "text": text_,
            "intent": ranked[0],
            "intent_ranking": ranked,
            "entities": [],
        },
        "metadata": {},
    }


def _events(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post(
        "/api/internal/events", headers=service_headers(), json={"events": list(events)}
    )
    assert response.status_code == 202, response.text


def _queue(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get("/api/annotations", headers=headers, params={"status": "new", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _by_text(queue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["text"]: item for item in queue["items"]}


@pytest.fixture
def trainer(make_agent: MakeAgent) -> dict[str, str]:
    """Bearer header of a trainer."""
    return make_agent("tina", role="trainer")


# -- pure parts ----------------------------------------------------------------------------


def test_normalisation_folds_script_case_punctuation_particles_and_order_numbers() -> None:
    assert normalize("親，我的訂單到哪裡了呀？？") == normalize("亲 我的订单到哪里了")
    assert normalize("Where is  my ORDER 20241105001?") == "where is my order"
    assert normalize("20241105001") == "#"
    assert normalize("我的订单 20241105001 到哪了") == normalize("我的订单20241105002到哪了啊")
    assert normalize("？？！") == ""
    assert similar(normalize("我的订单到哪里了"), normalize("我的订单到哪了"))
    assert similar(normalize("where is my order"), normalize("my order, where is it"))
    assert not similar(normalize("我要退款"), normalize("我要退货"))
    assert not similar(normalize("refund"), normalize("refund my order now please"))


def test_reading_rasa_rankings() -> None:
    fallback, reasons = read_ranking(
        [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "greet", "confidence": 0.3},
            {"name": "thank", "confidence": 0.1},
        ]
    )
    assert reasons == [Reason.NLU_FALLBACK]
    assert (fallback.intent, fallback.confidence, fallback.intent_2) == ("greet", 0.3, "thank")
    _, reasons = read_ranking(
        [
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "request_refund", "confidence": 0.46},
            {"name": "request_return", "confidence": 0.41},
        ]
    )
    assert reasons == [Reason.AMBIGUOUS]
    _, reasons = read_ranking(
        [{"name": "greet", "confidence": 0.9}, {"name": "thank", "confidence": 0.05}]
    )
    assert reasons == []


# -- every reason lands in the queue -------------------------------------------------------


def test_fallback_and_ambiguous_messages_from_the_event_broker(
    app_client: TestClient, trainer: dict[str, str]
) -> None:
    now = time.time()
    _events(
        app_client,
        parsed_event("telegram:1", "blorp the thing", now, [("greet", 0.2), ("thank", 0.1)]),
        bot_event("telegram:1", "Sorry?", now + 1),
        parsed_event(
            "telegram:1",
            "money back or swap",
            now + 2,
            [("request_refund", 0.45), ("request_exchange", 0.41)],
        ),
        parsed_event("telegram:1", "hello", now + 3, [("greet", 0.95), ("thank", 0.01)]),
        parsed_event("telegram:1", "/request_refund", now + 4, [("greet", 0.2), ("thank", 0.1)]),
    )
    items = _by_text(_queue(app_client, trainer))
    assert set(items) == {"blorp the thing", "money back or swap"}
    assert items["blorp the thing"]["reason"] == "nlu_fallback"
    assert items["blorp the thing"]["predicted_intent"] == "greet"
    assert items["blorp the thing"]["confidence"] == pytest.approx(0.2)
    assert items["money back or swap"]["reason"] == "ambiguous"
    assert items["money back or swap"]["predicted_intent"] == "request_refund"
    assert items["money back or swap"]["second_intent"] == "request_exchange"
    # Delivered twice by the broker: still one item.
    _events(
        app_client,
        parsed_event("telegram:1", "blorp the thing", now, [("greet", 0.2), ("thank", 0.1)]),
    )
    assert _by_text(_queue(app_client, trainer))["blorp the thing"]["count"] == 1


def test_repeated_misunderstanding_handoff_queues_the_messages_that_led_to_it(
    app_client: TestClient, trainer: dict[str, str]
) -> None:
    now = time.time()
    body = handoff_body(
        "wechat:o7",
        reason="repeated_misunderstanding",
        intents=[
            {"text": "the thingy broke twice", "intent": "greet", "confidence": 0.35},
            {"text": "it broke I said", "intent": "thank", "confidence": 0.3},
        ],
        transcript=[
            {"role": "customer", "text": "hi", "timestamp": now - 10},
            {"role": "bot", "text": "Hello", "timestamp": now - 9},
            {"role": "customer", "text": "the thingy broke twice", "timestamp": now - 8},
            {"role": "bot", "text": "Could you rephrase?", "timestamp": now - 7},
            {"role": "customer", "text": "it broke I said", "timestamp": now - 6},
        ],
    )
    response = app_client.post("/api/internal/handoffs", headers=service_headers(), json=body)
    assert response.status_code == 201, response.text
    items = _by_text(_queue(app_client, trainer, reason="repeated_misunderstanding"))
    assert set(items) == {"the thingy broke twice", "it broke I said"}
    assert items["it broke I said"]["predicted_intent"] == "thank"
    # An explicit request for a human puts nothing in the queue.
    plain = app_client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body("wechat:o8")
    )
    assert plain.status_code == 201
    assert "human please" not in _by_text(_queue(app_client, trainer))


def test_agent_flag_queues_the_customer_message_with_the_agents_intent(
    app_client: TestClient, make_agent: MakeAgent, trainer: dict[str, str], db: Engine
) -> None:
    alice = make_agent("alice")
    now = time.time()
    _events(
        app_client,
        parsed_event("telegram:9", "money back pls", now, [("greet", 0.9), ("thank", 0.05)]),
        bot_event("telegram:9", "Hello!", now + 1),
    )
    assert _queue(app_client, trainer)["items"] == []
    with db.connect() as connection:
        bot_id = connection.execute(
            text("SELECT id FROM messages WHERE role = 'bot' AND conversation_id = 'telegram:9'")
        ).scalar_one()
    flagged = app_client.post(
        f"/api/messages/{bot_id}/flag", headers=alice, json={"intent": "request_refund"}
    )
    assert flagged.status_code == 201, flagged.text
    [item] = _queue(app_client, trainer)["items"]
    assert (item["text"], item["reason"], item["agent_intent"]) == (
        "money back pls",
        "agent_flag",
        "request_refund",
    )
    assert item["predicted_intent"] == "greet"


def test_low_csat_queues_the_turns_the_bot_answered(
    app_client: TestClient,
    make_agent: MakeAgent,
    trainer: dict[str, str],
    fake_rasa: tuple[FakeRasa, str],
) -> None:
    alice = make_agent("alice")
    now = time.time() - 60
    _events(
        app_client,
        parsed_event("telegram:60", "parcel stuck for ages", now, [("greet", 0.8), ("x", 0.1)]),
        bot_event("telegram:60", "Hello there!", now + 1),
        parsed_event("telegram:60", "human", now + 2, [("request_human", 0.9), ("x", 0.05)]),
    )
    handed = app_client.post(
        "/api/internal/handoffs",
        headers=service_headers(),
        json=handoff_body("telegram:60", transcript=[]),
    )
    assert handed.status_code == 201
    app_client.post("/api/conversations/telegram:60/assign", headers=alice)
    sent = app_client.post(
        "/api/conversations/telegram:60/messages", headers=alice, json={"text": "I am on it"}
    )
    assert sent.status_code in (200, 201), sent.text
    assert (
        app_client.post("/api/conversations/telegram:60/resolve", headers=alice).status_code == 200
    )
    assert _queue(app_client, trainer)["items"] == []
    _events(app_client, parsed_event("telegram:60", "1", time.time(), [("x", 0.3), ("y", 0.2)]))
    items = _by_text(_queue(app_client, trainer, reason="low_csat"))
    # "human" was answered by the hand-off (no bot turn after it); the rating is not a turn.
    assert set(items) == {"parcel stuck for ages"}
    assert items["parcel stuck for ages"]["predicted_intent"] == "greet"


def test_a_good_rating_queues_nothing(
    app_client: TestClient, make_agent: MakeAgent, trainer: dict[str, str]
) -> None:
    alice = make_agent("alice")
    now = time.time() - 60
    _events(
        app_client,
        parsed_event("telegram:61", "parcel stuck", now, [("greet", 0.8), ("x", 0.1)]),
        bot_event("telegram:61", "Hello there!", now + 1),
    )
    app_client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body("telegram:61")
    )
    app_client.post("/api/conversations/telegram:61/assign", headers=alice)
    app_client.post("/api/conversations/telegram:61/resolve", headers=alice)
    _events(app_client, parsed_event("telegram:61", "5", time.time(), [("x", 0.3), ("y", 0.2)]))
    assert _queue(app_client, trainer)["items"] == []


def test_thumbs_down_from_the_web_chat(app_client: TestClient, trainer: dict[str, str]) -> None:
    now = time.time()
    _events(
        app_client,
        parsed_event("webchat:s1", "can I pay later", now, [("faq", 0.9), ("x", 0.01)]),
        bot_event("webchat:s1", "We ship in 2 days.", now + 1),
        parsed_event("webchat:s1", "do you invoice", now + 2, [("faq", 0.9), ("x", 0.01)]),
        bot_event("webchat:s1", "Invoices on request.", now + 3),
    )
    by_ts = app_client.post(
        "/api/internal/feedback",
        headers=service_headers(),
        json={"conversation_id": "webchat:s1", "message_ts": now + 1, "rating": "down"},
    )
    assert by_ts.status_code == 201, by_ts.text
    by_text = app_client.post(
        "/api/internal/feedback",
        headers=service_headers(),
        json={"conversation_id": "webchat:s1", "text": "Invoices on request.", "rating": "down"},
    )
    assert by_text.status_code == 201, by_text.text
    items = _by_text(_queue(app_client, trainer, reason="thumbs_down"))
    assert set(items) == {"can I pay later", "do you invoice"}
    # Bad input changes nothing.
    for body, status in (
        ({"conversation_id": "webchat:s1", "message_ts": now + 1, "rating": "up"}, 400),
        ({"conversation_id": "webchat:s1", "rating": "down"}, 400),
        ({"conversation_id": "webchat:s1", "text": "never said", "rating": "down"}, 404),
        ({"conversation_id": "webchat:nope", "message_ts": now, "rating": "down"}, 404),
    ):
        response = app_client.post("/api/internal/feedback", headers=service_headers(), json=body)
        assert response.status_code == status, (body, response.text)
    wrong = app_client.post(
        "/api/internal/feedback",
        headers={"Authorization": "Bearer wrong"},
        json={"conversation_id": "webchat:s1", "message_ts": now + 1, "rating": "down"},
    )
    assert wrong.status_code == 403
    assert len(_queue(app_client, trainer)["items"]) == 2


# -- grouping, labelling, undo, export -----------------------------------------------------


def _fill_groups(client: TestClient) -> None:
    now = time.time()
    low = [("greet", 0.2), ("thank", 0.1)]
    _events(
        client,
        parsed_event("telegram:100", "我的订单20241105001到哪了呀？", now, low),
        parsed_event("telegram:101", "我的訂單20241105002到哪了", now + 1, low),
        parsed_event("telegram:102", "亲，我的订单到哪里了", now + 2, low),
        parsed_event("telegram:103", "我的订单20241105003到哪了", now + 3, low),
        parsed_event("telegram:104", "refund my money", now + 4, low),
        parsed_event("telegram:105", "Refund my money!!", now + 5, low),
        parsed_event("telegram:106", "asdf qwerty", now + 6, low),
    )


def test_near_duplicates_are_grouped_and_counted_most_frequent_first(
    app_client: TestClient, trainer: dict[str, str]
) -> None:
    _fill_groups(app_client)
    queue = _queue(app_client, trainer)
    counts = [item["count"] for item in queue["items"]]
    assert counts == [4, 2, 1]
    orders, refunds, noise = queue["items"]
    assert orders["group_size"] == 4  # four wordings, one group
    assert orders["text"] == "我的订单20241105001到哪了呀？"
    assert {e["text"] for e in orders["examples"]} >= {
        "亲，我的订单到哪里了",
        "我的訂單20241105002到哪了",
    }
    assert orders["reasons"] == {"nlu_fallback": 4}
    assert refunds["count"] == 2 and noise["text"] == "asdf qwerty"
    assert queue["counts"]["all"] == 3 and queue["counts"]["nlu_fallback"] == 3
    detail = app_client.get(f"/api/annotations/{orders['id']}", headers=trainer).json()
    assert len(detail["members"]) == 4
    assert [m["source"] for m in detail["conversation"]["messages"]] == [True]


def test_labelling_a_group_with_an_order_id_span_then_undo(
    app_client: TestClient, trainer: dict[str, str], db: Engine
) -> None:
    _fill_groups(app_client)
    orders = _queue(app_client, trainer)["items"][0]
    start = orders["text"].index("2024")
    labelled = app_client.post(
        f"/api/annotations/{orders['id']}",
        headers=trainer,
        json={
            "intent": "track_shipment",
            "entities": [{"start": start, "end": start + 11, "entity": "order_id"}],
        },
    )
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["labelled"] == 4
    assert [i["count"] for i in _queue(app_client, trainer)["items"]] == [2, 1]
    done = _queue(app_client, trainer, status="labelled")["items"]
    assert [(g["count"], g["label_intent"]) for g in done] == [(4, "track_shipment")]
    again = app_client.post(
        f"/api/annotations/{orders['id']}", headers=trainer, json={"intent": "greet"}
    )
    assert again.status_code == 409
    history = app_client.get("/api/annotations/history", headers=trainer).json()["history"]
    assert history[0]["action"] == "label" and history[0]["count"] == 4
    assert history[0]["agent"] == "tina" and history[0]["undone"] is False

    undone = app_client.post(f"/api/annotations/{orders['id']}/undo", headers=trainer)
    assert undone.status_code == 200, undone.text
    assert [i["count"] for i in _queue(app_client, trainer)["items"]] == [4, 2, 1]
    with db.connect() as connection:
        leftovers = connection.execute(
            text("SELECT count(*) FROM annotation_items WHERE label_intent IS NOT NULL")
        ).scalar_one()
    assert leftovers == 0
    history = app_client.get("/api/annotations/history", headers=trainer).json()["history"]
    assert history[0]["undone"] is True
    nothing = app_client.post(f"/api/annotations/{orders['id']}/undo", headers=trainer)
    assert nothing.status_code == 404


def test_label_validation(app_client: TestClient, trainer: dict[str, str]) -> None:
    _fill_groups(app_client)
    item = _queue(app_client, trainer)["items"][2]  # "asdf qwerty"
    for body, status in (
        ({"intent": "not_in_the_domain"}, 400),
        ({}, 400),
        ({"intent": "greet", "ignore": True}, 400),
        ({"intent": "greet", "entities": [{"start": 0, "end": 99, "entity": "order_id"}]}, 400),
        ({"intent": "greet", "entities": [{"start": 0, "end": 2, "entity": "colour"}]}, 400),
    ):
        response = app_client.post(f"/api/annotations/{item['id']}", headers=trainer, json=body)
        assert response.status_code == status, (body, response.text)
    assert (
        app_client.post(
            "/api/annotations/999999", headers=trainer, json={"ignore": True}
        ).status_code
        == 404
    )
    ignored = app_client.post(
        f"/api/annotations/{item['id']}", headers=trainer, json={"ignore": True}
    )
    assert ignored.status_code == 200
    assert "asdf qwerty" not in _by_text(_queue(app_client, trainer))
    assert _queue(app_client, trainer, status="ignored")["items"][0]["text"] == "asdf qwerty"
    faq = _queue(app_client, trainer)["items"][1]
    with_key = app_client.post(
        f"/api/annotations/{faq['id']}", headers=trainer, json={"intent": "faq/payment_methods"}
    )
    assert with_key.status_code == 200, with_key.text


def test_export_is_deduplicated_and_traceable(
    app_client: TestClient, trainer: dict[str, str], admin_headers: dict[str, str]
) -> None:
    _fill_groups(app_client)
    now = time.time()
    # The same wording in another conversation, after the first group was labelled.
    orders, refunds, noise = _queue(app_client, trainer)["items"]
    start = orders["text"].index("2024")
    app_client.post(
        f"/api/annotations/{orders['id']}",
        headers=trainer,
        json={
            "intent": "track_shipment",
            "entities": [{"start": start, "end": start + 11, "entity": "order_id"}],
        },
    )
    app_client.post(
        f"/api/annotations/{refunds['id']}", headers=trainer, json={"intent": "request_refund"}
    )
    app_client.post(f"/api/annotations/{noise['id']}", headers=trainer, json={"ignore": True})
    _events(
        app_client,
        parsed_event("telegram:200", "refund my money", now + 10, [("greet", 0.2), ("x", 0.1)]),
    )
    [late] = _queue(app_client, trainer)["items"]
    assert late["count"] == 1  # labelled groups take no new members
    app_client.post(
        f"/api/annotations/{late['id']}", headers=trainer, json={"intent": "request_refund"}
    )

    exported = app_client.get("/api/annotations/export", headers=service_headers())
    assert exported.status_code == 200, exported.text
    examples = exported.json()["examples"]
    texts = [e["text"] for e in examples]
    assert len(texts) == len({" ".join(t.casefold().split()) for t in texts})
    assert texts.count("refund my money") == 1
    assert "asdf qwerty" not in texts
    assert "Refund my money!!" in texts
    by_text = {e["text"]: e for e in examples}
    first = by_text["我的订单20241105001到哪了呀？"]
    assert first["intent"] == "track_shipment"
    assert first["entities"] == [
        {"start": 4, "end": 15, "entity": "order_id", "value": "20241105001"}
    ]
    assert first["source"]["conversation_id"] == "telegram:100"
    assert first["source"]["reason"] == "nlu_fallback"
    assert isinstance(first["source"]["annotation_id"], int)
    # The span moves to the other wordings that contain the same number; none otherwise.
    assert by_text["亲，我的订单到哪里了"]["entities"] == []
    assert app_client.get("/api/annotations/export", headers=trainer).status_code == 200
    assert app_client.get("/api/annotations/export", headers=admin_headers).status_code == 200


def test_only_trainers_and_admins(
    app_client: TestClient, make_agent: MakeAgent, admin_headers: dict[str, str]
) -> None:
    agent = make_agent("alice")
    _fill_groups(app_client)
    item_id = _queue(app_client, admin_headers)["items"][0]["id"]
    for method, path, body in (
        ("GET", "/api/annotations?status=new", None),
        ("GET", f"/api/annotations/{item_id}", None),
        ("POST", f"/api/annotations/{item_id}", {"intent": "greet"}),
        ("POST", f"/api/annotations/{item_id}/undo", None),
        ("GET", "/api/annotations/history", None),
        ("GET", "/api/annotations/export", None),
    ):
        response = app_client.request(method, path, headers=agent, json=body)
        assert response.status_code == 403, (path, response.text)
        anonymous = app_client.request(method, path, json=body)
        assert anonymous.status_code in (401, 403), (path, anonymous.text)
    assert app_client.get("/api/annotations?status=bogus", headers=admin_headers).status_code == 400
    # The internal route takes the service token only.
    assert (
        app_client.post(
            "/api/internal/feedback",
            headers=admin_headers,
            json={"conversation_id": "telegram:100", "text": "x", "rating": "down"},
        ).status_code
        == 403
    )
    page = app_client.get("/trainers/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/trainers/"
