"""Helpers of the handoff service tests: credentials and Rasa's wire format."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi.testclient import TestClient

SERVICE_TOKEN = "test-service-token-0123456789"
RASA_TOKEN = "rasa-token-for-tests"
ADMIN = ("root", "violet-harbour-lamp-42")
# Every agent the fixtures create signs in with this (it passes the password policy).
AGENT_PASSWORD = "quiet-copper-kettle-17"


def bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    """Authorization header for ``username``."""
    response = client.post("/api/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def service_headers() -> dict[str, str]:
    """The Rasa side's credentials for ``/api/internal/*``."""
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def handoff_body(cid: str, **extra: Any) -> dict[str, Any]:
    """A ``POST /api/internal/handoffs`` body as ``action_handoff`` sends it."""
    body: dict[str, Any] = {
        "conversation_id": cid,
        "channel": cid.split(":")[0],
        "reason": "explicit_request",
        "intent": "request_human",
        "language": "en",
        "summary": "wants a person",
        "slots": {"order_id": "20241105001", "language": "en"},
        "intents": [
            {
                "text": "human please",
                "intent": "request_human",
                "confidence": 0.93,
                "timestamp": 1700000000.0,
            }
        ],
        "transcript": [
            {"role": "customer", "text": "human please", "timestamp": 1700000000.0},
            {"role": "bot", "text": "Connecting you", "timestamp": 1700000001.0},
        ],
        "after_sales_cases": [],
    }
    body.update(extra)
    return body


def user_event(
    cid: str, text: str, ts: float, *, intent: str = "chitchat", confidence: float = 0.8
) -> dict[str, Any]:
    """A tracker ``user`` event as Rasa's event broker publishes it."""
    return {
        "sender_id": cid,
        "event": "user",
        "timestamp": ts,
        "text": text,
        "input_channel": cid.split(":")[0],
        "message_id": uuid.uuid4().hex,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "affirm", "confidence": 1 - confidence},
            ],
            "entities": [],
        },
        "metadata": {},
    }


def bot_event(cid: str, text: str, ts: float, **metadata: Any) -> dict[str, Any]:
    """A tracker ``bot`` event."""
    return {
        "sender_id": cid,
        "event": "bot",
        "timestamp": ts,
        "text": text,
        "data": {
            "elements": None,
            "quick_replies": None,
            "buttons": None,
            "attachment": None,
            "image": None,
            "custom": None,
        },
        "metadata": metadata,
    }


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Runs ``app`` (with its lifespan and WebSockets) under uvicorn in a thread."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", ws="websockets-sansio", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the handoff app did not start")
            time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()
