"""Slack: a thread per handoff, buttons, thread replies to the customer, signatures, retries.

Slack's Web API is a local stand-in speaking its format (slack_sdk's base_url
points at it); Slack's requests to us are signed as Slack signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import ADMIN, handoff_body, service_headers, serving, user_event
from tests.support.servers import serve_in_thread

pytestmark = pytest.mark.slack
SIGNING_SECRET = "slack-signing-secret-for-tests"
CHANNEL = "C0HANDOFF"


def slack_settings(slack_url: str) -> dict[str, Any]:
    """The service's Slack settings pointed at a :class:`FakeSlack` served at ``slack_url``."""
    return {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_channel": CHANNEL,
        "slack_api_url": f"{slack_url}/api/",
    }


class FakeSlack:
    """Slack's Web API: records calls, answers like Slack."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.counter = 0

    def app(self) -> Starlette:
        async def api(request: Request) -> JSONResponse:
            method = request.path_params["method"]
            if request.method == "GET":
                args: dict[str, Any] = dict(request.query_params)
            elif request.headers.get("content-type", "").startswith("application/json"):
                args = await request.json()
            else:
                raw = (await request.body()).decode()
                args = {key: values[-1] for key, values in parse_qs(raw).items()}
            with self.lock:
                self.calls.append((method, args))
                self.counter += 1
                ts = f"1700000000.{self.counter:06d}"
            if method == "auth.test":
                return JSONResponse(
                    {
                        "ok": True,
                        "url": "https://shop.slack.com/",
                        "team": "Shop",
                        "user": "handoff",
                        "team_id": "T1",
                        "user_id": "UBOT",
                        "bot_id": "B1",
                        "is_enterprise_install": False,
                    }
                )
            if method == "users.info":
                return JSONResponse({"ok": True, "user": {"id": args.get("user"), "name": "alice"}})
            if method == "chat.postMessage":
                args["_ts"] = ts
                return JSONResponse(
                    {
                        "ok": True,
                        "channel": args.get("channel"),
                        "ts": ts,
                        "message": {"text": args.get("text"), "ts": ts},
                    }
                )
            return JSONResponse({"ok": False, "error": "unknown_method"})

        async def respond(request: Request) -> JSONResponse:
            with self.lock:
                self.calls.append(("response_url", await request.json()))
            return JSONResponse({"ok": True})

        return Starlette(
            routes=[
                Route("/api/{method}", api, methods=["GET", "POST"]),
                Route("/respond", respond, methods=["POST"]),
            ]
        )

    def posts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [args for method, args in self.calls if method == "chat.postMessage"]


def _signed(body: bytes, *, secret: str = SIGNING_SECRET, **extra: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        **extra,
    }


def _wait(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def slack_stack(
    make_settings: Callable[..., Settings], fake_rasa: tuple[FakeRasa, str]
) -> Iterator[tuple[str, FakeSlack, FakeRasa]]:
    slack = FakeSlack()
    with serve_in_thread(slack.app(), what="fake Slack") as slack_url:
        settings = make_settings(
            **slack_settings(slack_url),
        )
        with serving(create_app(settings)) as base:
            slack.response_url = f"{slack_url}/respond"  # type: ignore[attr-defined]
            yield f"http://{base}", slack, fake_rasa[0]


def test_slack_thread_buttons_and_replies(slack_stack: tuple[str, FakeSlack, FakeRasa]) -> None:
    base, slack, rasa = slack_stack
    token = httpx.post(
        f"{base}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
    ).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    httpx.post(
        f"{base}/api/agents",
        headers=admin,
        json={"username": "alice", "password": "silver-orchard-rain-5", "skills": []},
    ).raise_for_status()
    httpx.post(
        f"{base}/api/internal/handoffs",
        headers=service_headers(),
        json=handoff_body("telegram:300", summary="<@channel> refund"),
    ).raise_for_status()
    opening = _wait(lambda: slack.posts(), "the handoff thread")[0]
    assert opening["channel"] == CHANNEL
    assert "&lt;@channel&gt; refund" in opening["text"]
    actions = next(b for b in opening["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [
        ("handoff_claim", "telegram:300"),
        ("handoff_resolve", "telegram:300"),
    ]
    thread_ts = opening["_ts"]

    # The customer's messages follow in the thread, escaped for Slack.
    httpx.post(
        f"{base}/api/internal/events",
        headers=service_headers(),
        json={"events": [user_event("telegram:300", "<b>hello?</b>", 1700002000.0)]},
    ).raise_for_status()
    reply = _wait(lambda: [p for p in slack.posts() if p.get("thread_ts")], "the thread reply")[0]
    assert (
        reply["thread_ts"] == thread_ts and reply["text"] == "*Customer:* &lt;b&gt;hello?&lt;/b&gt;"
    )

    # A forged request is refused.
    body = json.dumps({"type": "event_callback", "event_id": "EvX"}).encode()
    forged = httpx.post(
        f"{base}/slack/events",
        content=body,
        headers={**_signed(body, secret="wrong"), "Content-Type": "application/json"},
    )
    assert forged.status_code == 403

    # Claim button.
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "alice", "name": "alice"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "token": "x",
        "trigger_id": "t",
        "container": {"type": "message", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "response_url": slack.response_url,  # type: ignore[attr-defined]
        "actions": [
            {
                "action_id": "handoff_claim",
                "block_id": "b",
                "value": "telegram:300",
                "type": "button",
                "action_ts": "1",
            }
        ],
    }
    form = urlencode({"payload": json.dumps(payload)}).encode()
    started = time.monotonic()
    claimed = httpx.post(
        f"{base}/slack/events",
        content=form,
        headers={**_signed(form), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert claimed.status_code == 200 and time.monotonic() - started < 3
    _wait(
        lambda: (
            httpx.get(f"{base}/api/conversations/telegram:300", headers=admin).json()["assignee"]
            == "alice"
        ),
        "the claim",
    )

    # A reply in the thread goes to the customer, once, even when Slack retries.
    event = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": "Ev0001",
        "event_time": 1700002100,
        "token": "x",
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "user": "U1",
            "text": "Refund is on its way",
            "ts": "1700002100.000100",
            "thread_ts": thread_ts,
        },
    }
    raw = json.dumps(event).encode()
    first = httpx.post(
        f"{base}/slack/events",
        content=raw,
        headers={**_signed(raw), "Content-Type": "application/json"},
    )
    assert first.status_code == 200
    _wait(lambda: rasa.outbound("telegram"), "the reply to reach the customer")
    retry = httpx.post(
        f"{base}/slack/events",
        content=raw,
        headers={
            **_signed(raw, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
            "Content-Type": "application/json",
        },
    )
    assert retry.status_code == 200
    time.sleep(0.5)
    assert rasa.outbound("telegram") == [
        {"recipient_id": "telegram:300", "text": "Refund is on its way"}
    ]
    assert rasa.tracker_events()[-1]["metadata"] == {"agent": "alice", "source": "handoff"}

    # Resolve button: the customer is asked for a rating.
    payload["actions"][0]["action_id"] = "handoff_resolve"  # type: ignore[index]
    form = urlencode({"payload": json.dumps(payload)}).encode()
    httpx.post(
        f"{base}/slack/events",
        content=form,
        headers={**_signed(form), "Content-Type": "application/x-www-form-urlencoded"},
    ).raise_for_status()
    _wait(
        lambda: (
            httpx.get(f"{base}/api/conversations/telegram:300", headers=admin).json()["status"]
            == "resolved"
        ),
        "the resolve",
    )
    assert "buttons" in _wait(lambda: rasa.outbound("telegram")[1:], "the CSAT prompt")[0]


def test_slack_is_off_without_its_settings(app_client: Any) -> None:
    response = app_client.post("/slack/events", content=b"{}")
    assert response.status_code in (401, 404)


def test_a_long_wait_is_posted_to_the_channel_once(
    make_settings: Callable[..., Settings], fake_rasa: tuple[FakeRasa, str]
) -> None:
    slack = FakeSlack()
    with serve_in_thread(slack.app(), what="fake Slack") as slack_url:
        settings = make_settings(
            **slack_settings(slack_url),
            handoff_wait_alert_s=1,
            handoff_sweep_interval_s=0.2,
        )
        with serving(create_app(settings)) as base:
            httpx.post(
                f"http://{base}/api/internal/handoffs",
                headers=service_headers(),
                json=handoff_body("wechat:<o1>"),
            ).raise_for_status()

            def alerts() -> list[dict[str, Any]]:
                return [p for p in slack.posts() if ":hourglass:" in str(p.get("text"))]

            posted = _wait(alerts, "the long-wait alert")
            time.sleep(1.0)  # five more sweeps: the same wait is not posted again
            assert alerts() == posted and len(posted) == 1
    assert posted[0]["channel"] == CHANNEL and "thread_ts" not in posted[0]
    assert posted[0]["text"].startswith(":hourglass: Conversation wechat:&lt;o1&gt; has waited")


def test_a_fallback_jump_reads_as_a_sentence() -> None:
    from handoff.services.slack_bridge import alert_text

    text = alert_text({"kind": "fallback_jump", "rate": 0.8333, "baseline": 0.1667})
    assert text == (
        ":warning: The bot's fallback rate today is 83% (usual: 17%): it misunderstands"
        " more than usual."
    )


def test_slack_sees_personal_data_masked(slack_stack: tuple[str, FakeSlack, FakeRasa]) -> None:
    base, slack, _rasa = slack_stack
    httpx.post(
        f"{base}/api/internal/handoffs",
        headers=service_headers(),
        json=handoff_body("telegram:301", summary="call 13812345678"),
    ).raise_for_status()
    opening = _wait(lambda: slack.posts(), "the handoff thread")[0]
    assert "138****5678" in opening["text"] and "13812345678" not in json.dumps(opening)
    httpx.post(
        f"{base}/api/internal/events",
        headers=service_headers(),
        json={"events": [user_event("telegram:301", "我的邮箱 li.lei@example.com", 1700002000.0)]},
    ).raise_for_status()
    reply = _wait(lambda: [p for p in slack.posts() if p.get("thread_ts")], "the thread reply")[0]
    assert reply["text"] == "*Customer:* 我的邮箱 l***@example.com"
