"""Hostile input gets a 4xx, never a 500: streamed bodies, NULs, huge numbers and dates."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.handoff.helpers import handoff_body, service_headers


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def test_a_chunked_body_over_the_limit_is_refused_while_streaming(app_client: TestClient) -> None:
    # No Content-Length: httpx sends a generator with Transfer-Encoding: chunked.
    answer = app_client.post(
        "/api/auth/token",
        content=_chunks(5_000_000),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_a_chunked_body_under_the_limit_is_read(app_client: TestClient) -> None:
    body = b'{"username": "nobody", "password": "wrong-guess"}'
    answer = app_client.post(
        "/api/auth/token", content=iter([body]), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "username", ["root\x00", "\x00", "ro\x00ot", "root\n", "a" * 65, "名字", "root'--"]
)
def test_malformed_usernames_at_sign_in_are_400(app_client: TestClient, username: str) -> None:
    answer = app_client.post("/api/auth/token", json={"username": username, "password": "x" * 12})
    assert answer.status_code == 400, answer.text


def test_nuls_and_huge_numbers_in_the_api_are_4xx(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    agent = make_agent("alice")
    app_client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body("telegram:1")
    )
    requests: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", "/api/conversations/telegram:1%00", None),
        ("GET", "/api/conversations/%00", None),
        ("POST", "/api/conversations/telegram:1%00/assign", None),
        ("GET", "/api/conversations?offset=2147483648", None),
        ("GET", "/api/conversations?offset=99999999999999999999", None),
        ("GET", "/api/conversations?limit=-1", None),
        ("GET", "/api/conversations?status=open%00", None),
        ("POST", "/api/conversations/telegram:1/assign", {"agent": "bob\x00"}),
        ("POST", "/api/conversations/telegram:1/assign", {"team": "billing\x00"}),
        ("PATCH", "/api/agents/alice%00", {"capacity": 1}),
        ("POST", "/api/agents", {"username": "eve\x00", "password": "quiet-copper-kettle-17"}),
        ("GET", "/api/metrics/summary?to=9999-12-31", None),
        ("GET", "/api/metrics/summary?from=0001-01-01&to=0001-01-02", None),
        ("GET", "/api/metrics/summary?from=2026-01-01%00", None),
        ("GET", "/api/metrics/channels?channel=tele%00gram", None),
        ("GET", "/api/metrics/agents?team=bil%00ling", None),
    ]
    for method, url, body in requests:
        answer = app_client.request(method, url, headers=admin_headers, json=body)
        assert 400 <= answer.status_code < 500, (method, url, answer.status_code, answer.text)
    reply = app_client.post(
        "/api/conversations/telegram:1/messages", headers=agent, json={"text": "hi\x00there"}
    )
    assert 400 <= reply.status_code < 500, reply.text
