"""The Rasa client's wire format: the conversation id in the tracker path.

Rasa's server (Sanic) does not percent-decode path parameters, so an id sent
as ``webchat%3Aabc`` reaches Rasa as another, new conversation: the agent's
turn and the ``resume`` would land there and the customer's conversation
would stay paused. Caught when the service first ran against the real Rasa
(tests/browser/test_handoff_e2e.py, tests/test_handoff_concurrency.py).
"""

from __future__ import annotations

import json

import httpx
import pytest

from handoff.rasa_client import RasaClient, tracker_events_path


@pytest.mark.parametrize(
    ("conversation_id", "path"),
    [
        ("webchat:4f3a9c", "/conversations/webchat:4f3a9c/tracker/events"),
        ("telegram:-100123", "/conversations/telegram:-100123/tracker/events"),
        ("wechat:oAbC_d-E", "/conversations/wechat:oAbC_d-E/tracker/events"),
        ("rest user/1?x#y", "/conversations/rest%20user%2F1%3Fx%23y/tracker/events"),
    ],
)
def test_the_id_is_escaped_only_where_a_path_needs_it(conversation_id: str, path: str) -> None:
    assert tracker_events_path(conversation_id) == path


async def test_resume_and_agent_turns_reach_the_conversation_unescaped() -> None:
    seen: list[httpx.Request] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"sender_id": "webchat:4f3a9c", "events": []})

    client = RasaClient(
        "http://rasa.test",
        auth_token="rasa-token",
        service_token="service-token-0123456789",
        timeout_s=5,
        transport=httpx.MockTransport(rasa),
    )
    try:
        await client.record_agent_turn("webchat:4f3a9c", "Hello from Alice", "alice")
        await client.resume("webchat:4f3a9c")
    finally:
        await client.aclose()
    assert [r.url.raw_path for r in seen] == [
        b"/conversations/webchat:4f3a9c/tracker/events?token=rasa-token"
    ] * 3
    assert [json.loads(r.content) for r in seen] == [
        {
            "event": "bot",
            "text": "Hello from Alice",
            "metadata": {"agent": "alice", "source": "handoff"},
        },
        # The bot listens again before it is resumed (else the next message
        # follows action_handoff, no rule matches, and the bot misunderstands).
        {"event": "action", "name": "action_listen"},
        {"event": "resume"},
    ]
