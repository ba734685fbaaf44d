"""Sign-in under attack: the limiter counts before verifying, argon2 runs in a bounded pool."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from handoff import security
from handoff.api.app import create_app
from handoff.api.client_address import client_address
from handoff.security import HasherBusy, PasswordPool
from handoff.settings import Settings, parse_networks
from tests.handoff.helpers import ADMIN, serving


async def _flood(base: str, bodies: list[dict[str, str]], **headers: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        answers = await asyncio.gather(
            *(client.post("/api/auth/token", json=body, headers=headers) for body in bodies)
        )
    return [answer.status_code for answer in answers]


def test_fifty_concurrent_guesses_get_at_most_the_limit_through(settings: Settings) -> None:
    with serving(create_app(settings)) as host:
        guesses = [{"username": ADMIN[0], "password": f"guess-{n}"} for n in range(50)]
        codes = asyncio.run(_flood(f"http://{host}", guesses))
    assert set(codes) <= {401, 429}
    assert codes.count(401) <= settings.handoff_login_attempts
    assert codes.count(429) >= 50 - settings.handoff_login_attempts


def test_one_address_cannot_try_unlimited_usernames(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(handoff_login_address_attempts=10)
    with serving(create_app(settings)) as host:
        guesses = [{"username": f"user{n}", "password": "wrong-guess"} for n in range(30)]
        codes = asyncio.run(_flood(f"http://{host}", guesses))
    assert codes.count(401) <= 10 and codes.count(429) >= 20


def test_the_overall_limit_holds_across_addresses(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(handoff_login_global_attempts=5, handoff_trusted_proxies="127.0.0.1")
    with serving(create_app(settings)) as host:
        codes = [
            httpx.post(
                f"http://{host}/api/auth/token",
                json={"username": f"user{n}", "password": "wrong-guess"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(8)
        ]
    assert codes == [401] * 5 + [429] * 3


def test_a_correct_password_does_not_use_up_the_limits(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(handoff_login_address_attempts=3, handoff_login_global_attempts=3)
    with serving(create_app(settings)) as host:
        codes = [
            httpx.post(
                f"http://{host}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
            ).status_code
            for _ in range(6)
        ]
    assert codes == [200] * 6


def test_forwarded_for_counts_only_from_trusted_proxies(
    make_settings: Callable[..., Settings],
) -> None:
    untrusted = make_settings(handoff_login_address_attempts=2)
    with serving(create_app(untrusted)) as host:
        codes = [
            httpx.post(
                f"http://{host}/api/auth/token",
                json={"username": f"user{n}", "password": "wrong-guess"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(3)
        ]
    # Spoofed headers from an untrusted peer change nothing: one address, limit 2.
    assert codes == [401, 401, 429]


def _request(peer: str, forwarded: str | None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    scope: dict[str, Any] = {"type": "http", "headers": headers, "client": (peer, 1234)}
    return Request(scope)


def test_client_address_reads_forwarded_for_right_to_left() -> None:
    proxies = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address(_request("10.1.1.1", "1.2.3.4, 5.6.7.8, 10.0.0.2"), proxies) == "5.6.7.8"
    assert client_address(_request("192.0.2.9", "1.2.3.4"), proxies) == "192.0.2.9"
    assert client_address(_request("10.1.1.1", None), proxies) == "10.1.1.1"
    assert client_address(_request("10.1.1.1", "not-an-address"), proxies) == "10.1.1.1"
    assert client_address(_request("10.1.1.1", "5.6.7.8"), ()) == "10.1.1.1"


def test_a_full_hashing_pool_refuses_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_verify(_hash: str | None, _password: str) -> bool:
        release.wait(5)
        return False

    monkeypatch.setattr(security, "verify_password", slow_verify)
    pool = PasswordPool(workers=1, waiting=1)

    async def scenario() -> list[object]:
        running = [asyncio.ensure_future(pool.verify(None, "x")) for _ in range(2)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(HasherBusy):
            await pool.verify(None, "x")
        assert time.monotonic() - started < 0.5  # refused, not queued
        release.set()
        return list(await asyncio.gather(*running))

    try:
        assert asyncio.run(scenario()) == [False, False]
    finally:
        pool.close()


def test_sign_in_runs_off_the_event_loop(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(handoff_login_attempts=1000, handoff_login_address_attempts=1000)
    with serving(create_app(settings)) as host:
        base = f"http://{host}"

        async def measure() -> tuple[float, list[int]]:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                bodies = [{"username": f"u{n}", "password": "wrong-guess"} for n in range(40)]
                flood = asyncio.gather(*(client.post("/api/auth/token", json=b) for b in bodies))
                await asyncio.sleep(0.01)
                started = time.monotonic()
                assert (await client.get("/health")).status_code == 200
                took = time.monotonic() - started
                return took, [r.status_code for r in await flood]

        took, codes = asyncio.run(measure())
    assert set(codes) <= {401, 429}
    assert took < 2.0
