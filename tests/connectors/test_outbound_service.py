"""The outbound template (``connectors/outbound.py``) with a platform of its own.

A platform fills :class:`OutboundService` with its send call only; the token,
the size limit, parsing, the replay and the answers are the template's, so
they are tested here once on a made-up ``echo`` channel. ``test_outbound.py``
drives the same route through each real connector.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Blueprint, Sanic

from connectors.background import BackgroundTasks
from connectors.outbound import (
    MAX_OUTBOUND_BYTES,
    REPLAY_METADATA,
    MalformedOutbound,
    Outbound,
    OutboundService,
    SendRefused,
)
from tests.support.sanic_server import serve_sanic

TOKEN = "template-test-service-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class EchoOutbound(OutboundService):
    """A platform whose send call records the message, or refuses as told."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[Outbound] = []

    async def send_reply(self, message: Outbound) -> None:
        if message.text == "refuse":
            raise SendRefused("the platform said no")
        if message.recipient_id == "echo:nobody":
            raise MalformedOutbound("no such recipient")
        self.sent.append(message)


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def serving() -> AsyncIterator[tuple[httpx.AsyncClient, EchoOutbound, list[UserMessage]]]:
    """Serves the template at ``/webhooks/echo/outbound``."""
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    background = BackgroundTasks()
    service = EchoOutbound(
        channel="echo",
        output=CollectingOutputChannel(),
        background=background,
        on_new_message=on_new_message,
        token=TOKEN,
    )
    blueprint = Blueprint("echo_webhook")
    service.mount(blueprint)
    app = Sanic(f"outbound_service_test_{uuid.uuid4().hex}")
    app.blueprint(blueprint, url_prefix="/webhooks/echo")
    async with serve_sanic(app) as url:
        try:
            async with httpx.AsyncClient(base_url=f"{url}/webhooks/echo", timeout=10) as http:
                yield http, service, received
        finally:
            await background.wait()


async def test_a_message_is_sent_by_the_platforms_call() -> None:
    message = {"recipient_id": "echo:1", "text": "hi", "buttons": [{"title": "A", "payload": "a"}]}
    async with serving() as (http, service, received):
        answer = await http.post("/outbound", json=message, headers=AUTH)

    assert (answer.status_code, answer.json()) == (200, {"sent": True})
    assert service.sent == [Outbound("echo:1", text="hi", buttons=[{"title": "A", "payload": "a"}])]
    assert received == []


async def test_the_platforms_refusals_become_502_and_400() -> None:
    async with serving() as (http, service, _):
        refused = await http.post(
            "/outbound", json={"recipient_id": "echo:1", "text": "refuse"}, headers=AUTH
        )
        unknown = await http.post(
            "/outbound", json={"recipient_id": "echo:nobody", "text": "hi"}, headers=AUTH
        )

    assert (refused.status_code, refused.json()) == (
        502,
        {"sent": False, "error": "the platform said no"},
    )
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"sent": False, "error": "no such recipient"},
    )
    assert service.sent == []


async def test_a_replay_reaches_rasa_on_the_channel_marked_as_a_replay() -> None:
    async with serving() as (http, service, received):
        answer = await http.post(
            "/outbound", json={"recipient_id": "echo:7", "replay_text": "where is it"}, headers=AUTH
        )

    assert (answer.status_code, answer.json()) == (200, {"sent": True, "replayed": True})
    assert [(m.text, m.sender_id, m.input_channel) for m in received] == [
        ("where is it", "echo:7", "echo")
    ]
    assert received[0].metadata == REPLAY_METADATA
    assert received[0].output_channel is service.output
    assert service.sent == []


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"recipient_id": "echo:1", "text": "hi"}, 403),
        ({"Authorization": "Bearer wrong"}, {"recipient_id": "echo:1", "text": "hi"}, 403),
        (AUTH, {"recipient_id": "other:1", "text": "hi"}, 400),
        (AUTH, {"recipient_id": "echo:1"}, 400),
        (AUTH, {"recipient_id": "echo:1", "text": "x" * MAX_OUTBOUND_BYTES}, 413),
    ],
)
async def test_the_shared_steps_refuse_before_the_platform_is_called(
    headers: dict[str, str], body: dict[str, Any], status: int
) -> None:
    async with serving() as (http, service, received):
        answer = await http.post("/outbound", json=body, headers=headers)

    assert answer.status_code == status
    assert answer.json()["sent"] is False
    assert service.sent == [] and received == []
