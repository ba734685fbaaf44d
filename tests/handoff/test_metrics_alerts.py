"""Alerts: a long wait or a jump of the fallback rate is raised once by the sweep (an
``alert.raised`` event: the inbox's strip, Slack), and every inbox user can read them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.handoff.helpers import user_event
from tests.handoff.test_metrics import Clock, _events, _local, clock, seeded  # noqa: F401

MakeAgent = Callable[..., dict[str, str]]


def _raised(app_client: TestClient) -> Callable[[], list[dict[str, Any]]]:
    """Runs one sweep of the service; returns the alerts it raised."""
    services = app_client.app.state.services  # type: ignore[attr-defined]
    seen: list[dict[str, Any]] = []

    async def record(event: dict[str, Any]) -> None:
        # Target alerts have their own tests (test_metrics_target_alerts.py).
        if event["type"] == "alert.raised" and event["alert"]["kind"] != "target_missed":
            seen.append(event["alert"])

    services.bus.listen(record)

    def sweep() -> list[dict[str, Any]]:
        seen.clear()
        assert app_client.portal is not None
        app_client.portal.call(services.conversations.sweep)
        return list(seen)

    return sweep


def test_every_inbox_user_reads_the_alerts(
    app_client: TestClient,
    make_agent: MakeAgent,
    seeded: Clock,  # noqa: F811
) -> None:
    agent = make_agent("bob")
    response = app_client.get("/api/metrics/alerts", headers=agent)
    assert response.status_code == 200, response.text
    assert response.json()["alerts"] == [
        {"kind": "long_wait", "conversation_id": "wechat:o3", "wait_s": 600}
    ]
    assert app_client.get("/api/metrics/alerts").status_code == 401


def test_the_sweep_raises_each_alert_once(
    app_client: TestClient,
    seeded: Clock,  # noqa: F811
) -> None:
    sweep = _raised(app_client)
    assert sweep() == [{"kind": "long_wait", "conversation_id": "wechat:o3", "wait_s": 600}]
    seeded.at(_local(2, 9, 30))
    assert sweep() == []  # still the same wait

    # Day 2 (local): 20 more messages the bot fell back on.
    now = _local(2, 9, 40)
    _events(
        app_client,
        seeded,
        *(
            user_event("telegram:9", f"??? {n}", now + n, intent="nlu_fallback", confidence=0.1)
            for n in range(20)
        ),
    )
    seeded.at(now + 60)
    jump = [alert for alert in sweep() if alert["kind"] == "fallback_jump"]
    # Today 20 of 24 customer messages with an intent fell back; the week before, 1 of 6
    # (A's three, A2, B's "asdfgh" and s4 just before day 1).
    expected = {"kind": "fallback_jump", "rate": round(20 / 24, 4), "baseline": round(1 / 6, 4)}
    assert jump == [expected]
    seeded.at(now + 120)
    assert sweep() == []
    live = app_client.get("/api/metrics/alerts", headers=_admin(app_client)).json()["alerts"]
    assert {alert["kind"] for alert in live} - {"target_missed"} == {"long_wait", "fallback_jump"}


def _admin(app_client: TestClient) -> dict[str, str]:
    from tests.handoff.helpers import ADMIN, bearer

    return bearer(app_client, *ADMIN)
