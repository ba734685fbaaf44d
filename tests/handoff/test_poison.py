"""Poison never blocks: what the service cannot store is refused (4xx, never 500),
kept as a dead letter for admins, and never holds back the events behind it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

from handoff.services.conversations.ingest import Ingest
from tests.handoff.helpers import handoff_body, service_headers, user_event

T = 1_765_000_000.0


def _post(client: TestClient, path: str, body: Any) -> Any:
    # ensure_ascii: a lone surrogate travels as the JSON escape Rasa's broker would send.
    return client.post(
        path,
        content=json.dumps(body, ensure_ascii=True).encode(),
        headers={**service_headers(), "content-type": "application/json"},
    )


def _poisoned(kind: str) -> dict[str, Any]:
    event = user_event("telegram:1", "hello", T)
    if kind == "nul in text":
        event["text"] = "hel\x00lo"
    elif kind == "lone surrogate in text":
        event["text"] = "hel\ud800lo"
    elif kind == "nul in sender":
        event["sender_id"] = "telegram:\x001"
    elif kind == "timestamp 1e20":
        event["timestamp"] = 1e20
    elif kind == "metadata a list":
        event["metadata"] = ["not", "an", "object"]
    elif kind == "parse_data a string":
        event["parse_data"] = "greet"
    elif kind == "intent_ranking of strings":
        event["parse_data"]["intent_ranking"] = ["greet"]
    elif kind == "nul in a slot value":
        event = {"sender_id": "telegram:1", "event": "slot", "name": "x", "value": "a\x00"}
    elif kind == "not an object":
        return "just a string"  # type: ignore[return-value]
    return event


POISON = [
    "nul in text",
    "lone surrogate in text",
    "nul in sender",
    "timestamp 1e20",
    "metadata a list",
    "parse_data a string",
    "intent_ranking of strings",
    "nul in a slot value",
    "not an object",
]


def _dead_letters(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/dead-letters", headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["dead_letters"]
    return rows


def _customer_texts(db: Engine) -> dict[str, list[str]]:
    with db.connect() as connection:
        rows = connection.execute(
            text("SELECT conversation_id, text FROM messages WHERE role = 'customer' ORDER BY id")
        ).all()
    found: dict[str, list[str]] = {}
    for cid, body in rows:
        found.setdefault(cid, []).append(body)
    return found


@pytest.mark.parametrize("kind", POISON)
def test_each_poisoned_event_is_refused_and_kept(
    app_client: TestClient, admin_headers: dict[str, str], db: Engine, kind: str
) -> None:
    response = _post(app_client, "/api/internal/events", {"events": [_poisoned(kind)]})
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["accepted"] == 0
    assert [r["index"] for r in answer["refused"]] == [0]
    letters = _dead_letters(app_client, admin_headers)
    assert len(letters) == 1
    assert letters[0]["kind"] == "event"
    assert letters[0]["reason"] == answer["refused"][0]["reason"]
    assert _customer_texts(db) == {}


def test_a_poisoned_event_never_holds_back_the_others(
    app_client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    events = [
        user_event("telegram:1", "first \x00 poisoned", T),
        user_event("wechat:o2", "I am fine", T + 1),
        _poisoned("timestamp 1e20"),
        user_event("webchat:s3", "me too", T + 2),
        user_event("telegram:1", "and this one is clean", T + 3),
    ]
    response = _post(app_client, "/api/internal/events", {"events": events})
    assert response.status_code == 422
    assert response.json()["accepted"] == 3
    assert [r["index"] for r in response.json()["refused"]] == [0, 2]
    assert _customer_texts(db) == {
        "wechat:o2": ["I am fine"],
        "webchat:s3": ["me too"],
        "telegram:1": ["and this one is clean"],
    }
    letters = _dead_letters(app_client, admin_headers)
    assert {letter["conversation_id"] for letter in letters} == {"telegram:1"}
    assert any("\\u0000" in letter["payload"] for letter in letters)
    # A later clean batch is accepted as before.
    later = _post(
        app_client, "/api/internal/events", {"events": [user_event("wechat:o2", "ok", T + 9)]}
    )
    assert later.status_code == 202
    assert later.json() == {"accepted": 1, "stored": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "wants\x00 a person"),
        ("conversation_id", "telegram:\ud83d"),
        ("transcript", [{"role": "customer", "text": "help \x00", "timestamp": T}]),
        ("transcript", [{"role": "customer", "text": "help", "timestamp": 1e20}]),
        ("slots", ["order_id", "1"]),
        ("slots", {"order_id": "\x00"}),
        ("intents", "request_human"),
    ],
)
def test_a_poisoned_handoff_is_refused_and_kept(
    app_client: TestClient, admin_headers: dict[str, str], db: Engine, field: str, value: Any
) -> None:
    body = {**handoff_body("telegram:5"), field: value}
    response = _post(app_client, "/api/internal/handoffs", body)
    assert response.status_code == 422, response.text
    assert field in response.json()["reason"]
    letters = _dead_letters(app_client, admin_headers)
    assert [letter["kind"] for letter in letters] == ["handoff"]
    assert letters[0]["conversation_id"] is not None
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM conversations")).scalar() == 0
    # The same hand-off without the poison is taken.
    clean = _post(app_client, "/api/internal/handoffs", handoff_body("telegram:5"))
    assert clean.status_code == 201


def test_dead_letters_are_for_admins_only(app_client: TestClient, make_agent: Any) -> None:
    agent = make_agent("alice")
    assert app_client.get("/api/dead-letters", headers=agent).status_code == 403
    assert app_client.get("/api/dead-letters").status_code in (401, 403)


@pytest.mark.parametrize(
    "body",
    [
        {"conversation_id": "webchat:\x00", "text": "bad answer", "rating": "down"},
        {"conversation_id": "webchat:s1", "text": "bad \ud800", "rating": "down"},
        {"conversation_id": "webchat:s1", "message_ts": float("nan"), "rating": "down"},
    ],
)
def test_poisoned_feedback_is_refused(app_client: TestClient, body: dict[str, Any]) -> None:
    body_bytes = json.dumps(body, ensure_ascii=True).encode()
    response = app_client.post(
        "/api/internal/feedback",
        content=body_bytes,
        headers={**service_headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text


def test_what_the_database_still_refuses_is_refused_alone(
    app_client: TestClient,
    admin_headers: dict[str, str],
    db: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Ingest._one

    async def picky(self: Ingest, sender: str, event: dict[str, Any]) -> int:
        if event.get("text") == "the database says no":
            raise DataError("INSERT …", {"text": "\x00"}, Exception("invalid byte \x00"))
        return await original(self, sender, event)

    monkeypatch.setattr(Ingest, "_one", picky)
    events = [
        user_event("telegram:1", "the database says no", T),
        user_event("telegram:2", "stored", T + 1),
    ]
    response = _post(app_client, "/api/internal/events", {"events": events})
    assert response.status_code == 422
    [refused] = response.json()["refused"]
    assert refused["index"] == 0 and refused["reason"].startswith("not storable: DataError")
    assert _customer_texts(db) == {"telegram:2": ["stored"]}
    assert len(_dead_letters(app_client, admin_headers)) == 1
