"""State stays consistent when agents and the event broker act at the same moment."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import (
    ADMIN,
    AGENT_PASSWORD,
    handoff_body,
    service_headers,
    serving,
    user_event,
)


def _login(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/auth/token", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _agents(base: str, count: int) -> list[dict[str, str]]:
    admin = _login(base, *ADMIN)
    headers = []
    for n in range(count):
        name = f"agent{n}"
        httpx.post(
            f"{base}/api/agents",
            headers=admin,
            json={"username": name, "password": AGENT_PASSWORD},
        ).raise_for_status()
        headers.append(_login(base, name, AGENT_PASSWORD))
    return headers


def test_simultaneous_claims_have_one_winner(settings: Settings) -> None:
    with serving(create_app(settings)) as host:
        base = f"http://{host}"
        agents = _agents(base, 5)
        httpx.post(
            f"{base}/api/internal/handoffs",
            headers=service_headers(),
            json=handoff_body("telegram:500"),
        ).raise_for_status()
        with ThreadPoolExecutor(5) as pool:
            codes = list(
                pool.map(
                    lambda h: (
                        httpx.post(
                            f"{base}/api/conversations/telegram:500/assign", headers=h, timeout=30
                        ).status_code
                    ),
                    agents,
                )
            )
        assert sorted(codes) == [200, 409, 409, 409, 409]
        winner = agents[codes.index(200)]
        me = httpx.get(f"{base}/api/me", headers=winner).json()["username"]
        detail = httpx.get(f"{base}/api/conversations/telegram:500", headers=winner).json()
        assert detail["assignee"] == me and detail["status"] == "open"


def test_hand_back_and_resolve_at_once(settings: Settings, fake_rasa: tuple[FakeRasa, str]) -> None:
    fake, _ = fake_rasa
    with serving(create_app(settings)) as host:
        base = f"http://{host}"
        (agent,) = _agents(base, 1)
        httpx.post(
            f"{base}/api/internal/handoffs",
            headers=service_headers(),
            json=handoff_body("telegram:501"),
        ).raise_for_status()
        httpx.post(
            f"{base}/api/conversations/telegram:501/assign", headers=agent
        ).raise_for_status()
        with ThreadPoolExecutor(2) as pool:
            handback, resolve = pool.map(
                lambda action: (
                    httpx.post(
                        f"{base}/api/conversations/telegram:501/{action}", headers=agent, timeout=30
                    ).status_code
                ),
                ["handback", "resolve"],
            )
        assert sorted([handback, resolve]) == [200, 409]
        status = httpx.get(f"{base}/api/conversations/telegram:501", headers=agent).json()["status"]
        resumes = [e for e in fake.tracker_events() if e == {"event": "resume"}]
        if handback == 200:
            assert status == "bot" and len(resumes) == 1 and fake.outbound() == []
        else:
            assert status == "resolved" and resumes == []
            assert fake.outbound()[0]["buttons"]


def test_duplicate_batches_at_once_store_each_turn_once(settings: Settings, db: Engine) -> None:
    batch = {
        "events": [user_event("telegram:502", f"message {n}", 1700003000.0 + n) for n in range(10)]
    }
    with serving(create_app(settings)) as host:
        with ThreadPoolExecutor(4) as pool:
            codes = list(
                pool.map(
                    lambda _: (
                        httpx.post(
                            f"http://{host}/api/internal/events",
                            headers=service_headers(),
                            json=batch,
                            timeout=60,
                        ).status_code
                    ),
                    range(4),
                )
            )
    assert codes == [202] * 4
    with db.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM messages WHERE conversation_id = 'telegram:502'")
        ).scalar_one()
    assert count == 10


def test_long_waits_are_flagged_and_unanswered_ratings_resume(
    make_settings: Callable[..., Settings], fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    settings = make_settings(
        handoff_wait_alert_s=1, handoff_csat_window_s=1, handoff_sweep_interval_s=0.3
    )
    with serving(create_app(settings)) as host:
        base = f"http://{host}"
        (agent,) = _agents(base, 1)
        for cid in ("telegram:503", "telegram:504"):
            httpx.post(
                f"{base}/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid)
            ).raise_for_status()
        httpx.post(
            f"{base}/api/conversations/telegram:504/assign", headers=agent
        ).raise_for_status()
        httpx.post(
            f"{base}/api/conversations/telegram:504/resolve", headers=agent
        ).raise_for_status()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            waiting = httpx.get(f"{base}/api/conversations/telegram:503", headers=agent).json()
            resolved = httpx.get(f"{base}/api/conversations/telegram:504", headers=agent).json()
            if waiting["flagged_wait"] and not resolved["csat_pending"]:
                break
            time.sleep(0.2)
        assert waiting["flagged_wait"] is True
        assert resolved["csat_pending"] is False
        assert {"event": "resume"} in fake.tracker_events()
        # A message after the window goes to the bot (no rating stored, nothing replayed).
        httpx.post(
            f"{base}/api/internal/events",
            headers=service_headers(),
            json={"events": [user_event("telegram:504", "5", 1700004000.0)]},
        ).raise_for_status()
        assert all("replay_text" not in body for body in fake.outbound())
