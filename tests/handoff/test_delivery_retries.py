"""Agent replies are delivered or visibly not: retried with one idempotency key, up to a limit,
a final failure kept with the platform's reason and sent again on request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handoff.settings import Settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import handoff_body, service_headers

MakeAgent = Callable[..., dict[str, str]]
WINDOW_CLOSED = "WeChat errcode 45015: response out of time limit or subscription is canceled"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(handoff_send_attempts=3, handoff_send_backoff_s=0.01)


def hand_off(client: TestClient, cid: str) -> None:
    answer = client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid)
    )
    assert answer.status_code == 201, answer.text


def reply(client: TestClient, headers: dict[str, str], cid: str, text: str) -> Any:
    return client.post(
        f"/api/conversations/{cid}/messages", headers=headers, json={"text": text, "private": False}
    )


def sends(fake: FakeRasa) -> list[tuple[str, str]]:
    return [
        (r.body["text"], r.headers.get("idempotency-key", ""))
        for r in fake.requests
        if r.path.endswith("/outbound")
    ]


def test_a_refusal_that_passes_is_retried_with_one_key_and_sent_once(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_next, fake.refuse_outbound = 2, None
    alice = make_agent("alice")
    hand_off(app_client, "telegram:51")
    answer = reply(app_client, alice, "telegram:51", "Your parcel left today")
    assert answer.status_code == 201, answer.text
    message = answer.json()["message"]
    assert message["delivery"] == "sent" and message["error"] is None
    key = f"handoff-message-{message['id']}"
    assert sends(fake) == [("Your parcel left today", key)] * 3  # two refused, one sent
    assert len(fake.tracker_events("telegram:51")) == 1  # recorded once, as said once


def test_a_reply_that_keeps_failing_stops_at_the_limit_with_the_reason(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_outbound = "Forbidden: bot was blocked by the user"
    alice = make_agent("alice")
    hand_off(app_client, "telegram:52")
    answer = reply(app_client, alice, "telegram:52", "Hello?")
    assert answer.status_code == 502
    assert answer.json()["message"]["delivery"] == "failed"
    assert "bot was blocked by the user" in answer.json()["message"]["error"]
    assert len(sends(fake)) == 3  # HANDOFF_SEND_ATTEMPTS
    assert fake.tracker_events("telegram:52") == []


def test_wechats_48_hour_window_is_said_as_such_and_not_retried(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_outbound = WINDOW_CLOSED
    alice = make_agent("alice")
    hand_off(app_client, "wechat:o53")
    answer = reply(app_client, alice, "wechat:o53", "还在吗？")
    assert answer.status_code == 502
    error = answer.json()["message"]["error"]
    assert error.startswith("WeChat's 48-hour window is closed") and "45015" in error
    assert len(sends(fake)) == 1


def test_send_again_delivers_a_failed_reply_once(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_outbound = "Bad Gateway"
    alice = make_agent("alice")
    hand_off(app_client, "telegram:54")
    failed = reply(app_client, alice, "telegram:54", "Refund approved").json()["message"]
    path = f"/api/conversations/telegram:54/messages/{failed['id']}/resend"

    again = app_client.post(path, headers=alice)  # still refused: still failed, reason kept
    assert again.status_code == 502 and again.json()["message"]["delivery"] == "failed"

    fake.refuse_outbound = None
    sent = app_client.post(path, headers=alice)
    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["delivery"] == "sent" and sent.json()["message"]["error"] is None
    assert sends(fake)[-1] == ("Refund approved", f"handoff-message-{failed['id']}")
    assert len(fake.tracker_events("telegram:54")) == 1

    assert app_client.post(path, headers=alice).status_code == 409  # sent: nothing to redo
    detail = app_client.get("/api/conversations/telegram:54", headers=alice).json()
    agent_turns = [m for m in detail["messages"] if m["role"] == "agent"]
    assert [(m["text"], m["delivery"]) for m in agent_turns] == [("Refund approved", "sent")]


def test_send_again_refuses_what_it_cannot_resend(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_outbound = "Bad Gateway"
    alice, bob = make_agent("alice"), make_agent("bob")
    hand_off(app_client, "telegram:55")
    failed = reply(app_client, alice, "telegram:55", "One moment").json()["message"]
    base = "/api/conversations/telegram:55/messages"
    count = len(sends(fake))
    assert app_client.post(f"{base}/999999/resend", headers=alice).status_code == 404
    assert app_client.post(f"{base}/{failed['id']}/resend", headers=bob).status_code == 409
    assert app_client.post(f"{base}/abc/resend", headers=alice).status_code == 400
    note = app_client.post(base, headers=alice, json={"text": "internal", "private": True})
    assert (
        app_client.post(f"{base}/{note.json()['message']['id']}/resend", headers=alice).status_code
        == 409
    )
    assert (
        app_client.post(
            f"/api/conversations/telegram:56/messages/{failed['id']}/resend", headers=alice
        ).status_code
        == 404
    )
    assert len(sends(fake)) == count  # nothing was sent by any of these
    assert app_client.post(f"{base}/{failed['id']}/resend").status_code == 401
