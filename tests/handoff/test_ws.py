"""``/api/ws``: live events to agents, across replicas through Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.conftest import Storage
from tests.handoff.helpers import ADMIN, handoff_body, service_headers, serving, user_event


def _token(base: str) -> str:
    response = httpx.post(
        f"http://{base}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _ticket(base: str, token: str) -> list[str]:
    """The subprotocols that present a fresh one-time ticket."""
    response = httpx.post(
        f"http://{base}/api/ws/tickets", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["expires_in"] == 30
    return ["handoff", f"ticket.{response.json()['ticket']}"]


def _refused(url: str, **options: Any) -> int | None:
    with connect(url, **options) as refused, pytest.raises(ConnectionClosed) as closed:
        refused.recv(timeout=5)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        event = json.loads(ws.recv(timeout=10))
        if event["type"] == kind:
            return event  # type: ignore[no-any-return]


def test_websocket_receives_handoffs_and_customer_messages(settings: Settings) -> None:
    with serving(create_app(settings)) as base:
        token = _token(base)
        with connect(f"ws://{base}/api/ws", subprotocols=_ticket(base, token)) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == "handoff"
            httpx.post(
                f"http://{base}/api/internal/handoffs",
                headers=service_headers(),
                json=handoff_body("telegram:100"),
            ).raise_for_status()
            handed = _next(ws, "conversation.handed_off")
            assert handed["conversation"]["id"] == "telegram:100"
            assert handed["conversation"]["status"] == "pending"
            httpx.post(
                f"http://{base}/api/internal/events",
                headers=service_headers(),
                json={"events": [user_event("telegram:100", "<b>still there?</b>", 1700001000.0)]},
            ).raise_for_status()
            created = _next(ws, "message.created")
            assert created["message"]["text"] == "<b>still there?</b>"
            assert created["message"]["role"] == "customer"
            assert created["conversation"]["unread"] == 1
            assert created["conversation"]["last_message"]["text"] == "<b>still there?</b>"


def test_live_events_of_a_reply_and_a_note_match_what_the_api_answers(
    settings: Settings,
) -> None:
    # The events are built from the rows the service just wrote (not read back):
    # they must still say who wrote what, how it was delivered and which public
    # message is the newest (a note never is).
    with serving(create_app(settings)) as base:
        token = _token(base)
        agent = {"Authorization": f"Bearer {token}"}
        with connect(f"ws://{base}/api/ws", subprotocols=_ticket(base, token)) as ws:  # type: ignore[arg-type]
            httpx.post(
                f"http://{base}/api/internal/handoffs",
                headers=service_headers(),
                json=handoff_body("telegram:101"),
            ).raise_for_status()
            httpx.post(
                f"http://{base}/api/internal/events",
                headers=service_headers(),
                json={"events": [user_event("telegram:101", "where is it?", 1700001100.0)]},
            ).raise_for_status()
            assert _next(ws, "message.created")["message"]["text"] == "where is it?"
            url = f"http://{base}/api/conversations/telegram:101/messages"
            reply = httpx.post(url, headers=agent, json={"text": "It left today"})
            assert reply.status_code == 201, reply.text
            sent = _next(ws, "message.created")
            assert sent["message"] == reply.json()["message"]
            assert sent["message"]["agent"] == ADMIN[0]
            assert sent["message"]["delivery"] == "sent"
            assert sent["conversation"]["assignee"] == ADMIN[0]
            assert sent["conversation"]["status"] == "open"
            assert sent["conversation"]["unread"] == 0
            assert sent["conversation"]["last_message"]["text"] == "It left today"
            assert sent["conversation"]["last_message"]["role"] == "agent"
            note = httpx.post(url, headers=agent, json={"text": "VIP", "private": True})
            assert note.status_code == 201, note.text
            noted = _next(ws, "message.created")
            assert noted["message"] == note.json()["message"]
            assert noted["message"]["private"] is True and noted["message"]["agent"] == ADMIN[0]
            assert noted["message"]["delivery"] is None
            assert noted["conversation"]["last_message"]["text"] == "It left today"


def test_websocket_with_cookie_session_and_refusals(settings: Settings) -> None:
    with serving(create_app(settings)) as base:
        # Not signed in: closed with 4401 so the inbox goes to the login page at once.
        # No token in a URL is honoured, not even a valid one (URLs end up in access logs).
        for url in (f"ws://{base}/api/ws", f"ws://{base}/api/ws?token={_token(base)}"):
            assert _refused(url) == 4401
        login = httpx.post(
            f"http://{base}/api/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]}
        )
        cookie = f"handoff_session={login.cookies['handoff_session']}"
        with pytest.raises(InvalidStatus):  # another site's page using the agent's cookie
            connect(
                f"ws://{base}/api/ws",
                additional_headers={"Cookie": cookie},
                origin="http://evil.example",
            ).close()  # type: ignore[arg-type]
        with connect(
            f"ws://{base}/api/ws", additional_headers={"Cookie": cookie}, origin=f"http://{base}"
        ) as ws:  # type: ignore[arg-type]
            httpx.post(
                f"http://{base}/api/internal/handoffs",
                headers=service_headers(),
                json=handoff_body("webchat:ws"),
            ).raise_for_status()
            assert _next(ws, "conversation.handed_off")["conversation"]["id"] == "webchat:ws"


def test_replicas_share_live_events_through_redis(
    storage: Storage, make_settings: Callable[..., Settings]
) -> None:
    if storage.redis_url is None:
        pytest.skip("replicas share events only through Redis")
    one, two = make_settings(), make_settings()
    with serving(create_app(one)) as first, serving(create_app(two)) as second:
        # A ticket issued by one replica opens a socket on the other (kept in Redis).
        with connect(f"ws://{second}/api/ws", subprotocols=_ticket(first, _token(first))) as ws:  # type: ignore[arg-type]
            httpx.post(
                f"http://{first}/api/internal/handoffs",
                headers=service_headers(),
                json=handoff_body("telegram:200"),
            ).raise_for_status()
            event = _next(ws, "conversation.handed_off")
            assert event["conversation"]["id"] == "telegram:200"


def test_a_ticket_opens_one_socket_and_dies_with_the_session(settings: Settings) -> None:
    with serving(create_app(settings)) as base:
        token = _token(base)
        offered = _ticket(base, token)
        with connect(f"ws://{base}/api/ws", subprotocols=offered) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == "handoff"
        # Used once: the same ticket again, a made-up one and none at all are refused.
        assert _refused(f"ws://{base}/api/ws", subprotocols=offered) == 4401
        forged = ["handoff", "ticket.not-a-ticket"]
        assert _refused(f"ws://{base}/api/ws", subprotocols=forged) == 4401
        assert httpx.post(f"http://{base}/api/ws/tickets").status_code == 401
        # A ticket issued before sign-out opens nothing after it.
        pending = _ticket(base, token)
        signed_out = httpx.post(
            f"http://{base}/api/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert signed_out.status_code == 200, signed_out.text
        assert _refused(f"ws://{base}/api/ws", subprotocols=pending) == 4401


async def test_tickets_expire(storage: Storage) -> None:
    from redis.asyncio import Redis

    from handoff.ws_tickets import TicketBook

    redis = Redis.from_url(storage.redis_url) if storage.redis_url else None
    try:
        book = TicketBook(redis, prefix=storage.redis_prefix, ttl_s=1)
        kept, expiring = await book.issue("amy", 3), await book.issue("amy", 3)
        redeemed = await book.redeem(kept)
        assert redeemed is not None and (redeemed.username, redeemed.version) == ("amy", 3)
        assert await book.redeem(kept) is None
        await asyncio.sleep(1.1 if redis is None else 2.1)
        assert await book.redeem(expiring) is None
        assert await book.redeem("x" * 500) is None
    finally:
        if redis is not None:
            await redis.aclose()
