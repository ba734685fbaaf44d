"""Personal data through the service: masked for agents, trainers, events and CSV;
unmasked on reveal (recorded); placeholders in training data; not in the logs."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, bearer, handoff_body, service_headers, user_event

MakeAgent = Callable[..., dict[str, str]]
PHONE, MASKED = "13812345678", "138****5678"
ADDRESS = "上海市浦东新区张江路88号3栋501室"
SAYS = f"我的电话是{PHONE}，地址{ADDRESS}，订单20241105001"
CID = "telegram:777"


def _hand_off(client: TestClient, cid: str = CID) -> None:
    body = handoff_body(
        cid,
        summary=f"wants a call on {PHONE}",
        slots={"order_id": "20241105001", "language": "zh", "new_address": ADDRESS},
        transcript=[{"role": "customer", "text": SAYS, "timestamp": 1700000000.0}],
        intents=[{"text": SAYS, "intent": "request_human", "confidence": 0.9}],
    )
    response = client.post("/api/internal/handoffs", headers=service_headers(), json=body)
    assert response.status_code == 201, response.text


def _customer_says(client: TestClient, text: str, cid: str = CID) -> None:
    response = client.post(
        "/api/internal/events",
        headers=service_headers(),
        json={"events": [user_event(cid, text, time.time())]},
    )
    assert response.status_code == 202, response.text


def _assert_masked(body: Any) -> None:
    flat = str(body)
    assert PHONE not in flat and "张江路88号" not in flat
    assert MASKED in flat


def test_agents_see_masked_data_in_list_transcript_and_context(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    alice = make_agent("alice")
    _hand_off(app_client)
    _customer_says(app_client, f"again: {PHONE}")
    listing = app_client.get("/api/conversations", headers=alice).json()
    [row] = listing["conversations"]
    assert row["last_message"]["text"] == f"again: {MASKED}"
    assert row["summary"] == f"wants a call on {MASKED}"
    detail = app_client.get(f"/api/conversations/{CID}", headers=alice).json()
    _assert_masked(detail)
    texts = [m["text"] for m in detail["messages"] if m["role"] == "customer"]
    assert texts[0] == f"我的电话是{MASKED}，地址上海市浦东新区****，订单20241105001"
    assert detail["context"]["slots"] == {
        "order_id": "20241105001",  # an order id is not a phone number
        "language": "zh",
        "new_address": "****",
    }
    _assert_masked(detail["context"]["intents"])


def test_reveal_is_for_the_assignee_or_an_admin_and_is_recorded(
    app_client: TestClient, make_agent: MakeAgent, admin_headers: dict[str, str]
) -> None:
    alice, bob = make_agent("alice"), make_agent("bob")
    trainer = make_agent("tina", role="trainer")
    _hand_off(app_client)
    reveal = f"/api/conversations/{CID}/reveal"
    # Nobody holds it yet: only an admin may.
    assert app_client.post(reveal, headers=alice).status_code == 403
    missing = app_client.post("/api/conversations/telegram:none/reveal", headers=alice)
    assert missing.status_code == 404
    assert app_client.post(f"/api/conversations/{CID}/assign", headers=alice).status_code == 200
    assert app_client.post(reveal, headers=bob).status_code == 403
    assert app_client.post(reveal, headers=trainer).status_code == 403
    shown = app_client.post(reveal, headers=alice)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert SAYS in [m["text"] for m in body["messages"]]
    assert body["context"]["slots"]["new_address"] == ADDRESS
    assert body["summary"] == f"wants a call on {PHONE}"
    assert app_client.post(reveal, headers=admin_headers).status_code == 200
    # The plain view stays masked after a reveal.
    _assert_masked(app_client.get(f"/api/conversations/{CID}", headers=alice).json())

    records = app_client.get(
        "/api/audit", headers=admin_headers, params={"action": "conversation.reveal"}
    ).json()["records"]
    assert [(r["actor"], r["conversation_id"]) for r in records] == [
        ("root", CID),
        ("alice", CID),
    ]


def test_live_events_for_websocket_and_slack_are_masked(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    alice = make_agent("alice")
    seen: list[dict[str, Any]] = []

    async def listener(event: dict[str, Any]) -> None:
        seen.append(event)

    app_client.app.state.services.bus.listen(listener)  # type: ignore[attr-defined]
    _hand_off(app_client)
    _customer_says(app_client, f"call me {PHONE}")
    app_client.post(f"/api/conversations/{CID}/assign", headers=alice)
    reply = {"text": f"We will call {PHONE}", "private": False}
    app_client.post(f"/api/conversations/{CID}/messages", headers=alice, json=reply)
    assert {event["type"] for event in seen} >= {"conversation.handed_off", "message.created"}
    for event in seen:
        assert PHONE not in str(event), event
    created = [e for e in seen if e["type"] == "message.created"]
    assert created[0]["message"]["text"] == f"call me {MASKED}"


def _trainer_queue(client: TestClient, trainer: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/annotations", headers=trainer, params={"status": "new"})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_trainers_never_see_it_and_training_data_gets_placeholders(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    trainer = make_agent("tina", role="trainer")
    said = f"退货 20241105001 电话{PHONE}"
    event = user_event("telegram:9", said, time.time(), intent="greet", confidence=0.2)
    event["parse_data"]["intent_ranking"].insert(0, {"name": "nlu_fallback", "confidence": 0.4})
    event["parse_data"]["intent"] = {"name": "nlu_fallback", "confidence": 0.4}
    response = app_client.post(
        "/api/internal/events", headers=service_headers(), json={"events": [event]}
    )
    assert response.status_code == 202
    [item] = _trainer_queue(app_client, trainer)
    assert PHONE not in str(item)
    assert len(item["text"]) == len(said)  # offsets the trainer marks stay right
    detail = app_client.get(f"/api/annotations/{item['id']}", headers=trainer).json()
    assert PHONE not in str(detail)
    start = item["text"].index("20241105001")
    label = {
        "intent": "request_refund",
        "entities": [{"start": start, "end": start + 11, "entity": "order_id"}],
    }
    labelled = app_client.post(f"/api/annotations/{item['id']}", headers=trainer, json=label)
    assert labelled.status_code == 200, labelled.text
    history = app_client.get("/api/annotations/history", headers=trainer).json()["history"]
    assert history and PHONE not in str(history)
    [example] = app_client.get("/api/annotations/export", headers=trainer).json()["examples"]
    assert example["text"] == "退货 20241105001 电话<phone>"
    [span] = example["entities"]
    assert example["text"][span["start"] : span["end"]] == "20241105001" == span["value"]


def test_csv_exports_are_masked(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    event = user_event("telegram:8", f"blorp {PHONE}", time.time(), intent="nlu_fallback")
    response = app_client.post(
        "/api/internal/events", headers=service_headers(), json={"events": [event]}
    )
    assert response.status_code == 202
    table = app_client.get(
        "/api/metrics/misunderstood", headers=admin_headers, params={"format": "csv"}
    )
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    assert [row["text"] for row in rows] == [f"blorp {MASKED}"]
    outside = user_event("telegram:9", f"zork {PHONE}", time.time() + 1, intent="out_of_scope")
    response = app_client.post(
        "/api/internal/events", headers=service_headers(), json={"events": [outside]}
    )
    assert response.status_code == 202
    table = app_client.get("/api/metrics/out-of-scope", headers=admin_headers)
    assert table.status_code == 200, table.text
    assert PHONE not in table.text and f"zork {MASKED}" in table.text


def test_no_customer_text_in_the_logs_at_info(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with TestClient(create_app(settings)) as client:
        admin = bearer(client, *ADMIN)
        _hand_off(client)
        _customer_says(client, f"secret {PHONE}")
        client.get(f"/api/conversations/{CID}", headers=admin)
        client.post(f"/api/conversations/{CID}/reveal", headers=admin)
        # A text the database refuses (NUL) goes to the dead letters, logged.
        refused = client.post(
            "/api/internal/events",
            headers=service_headers(),
            json={"events": [user_event(CID, f"bad\x00 {PHONE}", time.time())]},
        )
        assert refused.status_code == 422
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records  # the service does log at INFO
    assert PHONE not in logged and "张江路" not in logged
