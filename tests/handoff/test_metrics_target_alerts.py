"""Alerts against the KPI targets: a figure missing its target over the trailing hour is
raised once (``alert.raised``: the live strip, Slack), and cleared (``alert.cleared``)
when it is back within target. Data: ``test_metrics_kpis``'s seeded set."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.services.slack_bridge import alert_text
from handoff.settings import Settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import ADMIN, service_headers, serving, user_event
from tests.handoff.test_metrics import Clock, _local, clock  # noqa: F401
from tests.handoff.test_metrics_kpis import kpi_seeded  # noqa: F401
from tests.handoff.test_slack import CHANNEL, FakeSlack, _wait, slack_settings
from tests.support.servers import serve_in_thread


def _sweeper(app_client: TestClient) -> Callable[[], list[tuple[str, dict[str, Any]]]]:
    """Runs one sweep of the service; returns the alert events it emitted."""
    services = app_client.app.state.services  # type: ignore[attr-defined]
    seen: list[tuple[str, dict[str, Any]]] = []

    async def record(event: dict[str, Any]) -> None:
        if event["type"] in ("alert.raised", "alert.cleared"):
            seen.append((event["type"], event["alert"]))

    services.bus.listen(record)

    def sweep() -> list[tuple[str, dict[str, Any]]]:
        seen.clear()
        assert app_client.portal is not None
        app_client.portal.call(services.conversations.sweep)
        return [(kind, alert) for kind, alert in seen if alert["kind"] == "target_missed"]

    return sweep


def _standing(app_client: TestClient, headers: dict[str, str]) -> list[str]:
    found = app_client.get("/api/metrics/alerts", headers=headers).json()["alerts"]
    return [a["target"] for a in found if a["kind"] == "target_missed"]


def test_a_missed_target_is_raised_once_and_cleared_when_back(
    app_client: TestClient,
    admin_headers: dict[str, str],
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    sweep = _sweeper(app_client)
    # 12:30–13:30 on day 2 holds k6 alone: a complaint (100 %), the agent answered in
    # 40 s, rated 2 (0 % satisfied); the bot answered in 0.5 s; resolved, no return.
    kpi_seeded.at(_local(2, 13, 30))
    raised = sweep()
    assert [(kind, a["target"], a["value"], a["goal"]) for kind, a in raised] == [
        ("alert.raised", "human_first_response_s", 40.0, 30.0),
        ("alert.raised", "csat_satisfied_rate", 0.0, 0.85),
        ("alert.raised", "complaint_rate", 1.0, 0.015),
    ]
    assert raised[0][1]["hours"] == 1.0 and raised[0][1]["since_local"] == "2026-03-02 13:30"
    kpi_seeded.at(_local(2, 13, 35))
    assert sweep() == []  # still missed: not raised again
    assert _standing(app_client, admin_headers) == [
        "human_first_response_s",
        "csat_satisfied_rate",
        "complaint_rate",
    ]
    looser = app_client.put(
        "/api/metrics/targets", headers=admin_headers, json={"human_first_response_s": 60}
    )
    assert looser.status_code == 200
    cleared = sweep()
    assert [(kind, a["target"], a["value"], a["goal"]) for kind, a in cleared] == [
        ("alert.cleared", "human_first_response_s", 40.0, 60.0)
    ]
    assert _standing(app_client, admin_headers) == ["csat_satisfied_rate", "complaint_rate"]
    # Nothing in the window (day 4): no figure, so nothing raised or cleared.
    kpi_seeded.at(_local(4, 3, 0))
    assert sweep() == []
    assert _standing(app_client, admin_headers) == ["csat_satisfied_rate", "complaint_rate"]
    # Missed again later: a new alert.
    app_client.put(
        "/api/metrics/targets", headers=admin_headers, json={"human_first_response_s": 30}
    )
    kpi_seeded.at(_local(2, 13, 40))
    again = sweep()
    assert [(kind, a["target"]) for kind, a in again] == [
        ("alert.raised", "human_first_response_s")
    ]


def test_target_alerts_read_as_sentences_in_slack() -> None:
    alert = {
        "kind": "target_missed",
        "target": "human_first_response_s",
        "name": "Agent first response (median)",
        "value": 40.0,
        "goal": 30.0,
        "unit": "s",
        "direction": "max",
        "hours": 1.0,
    }
    assert alert_text(alert) == (
        ":chart_with_downwards_trend: Target missed over the last 1.0 h:"
        " Agent first response (median) 40.0 s (target ≤ 30.0 s)."
    )
    rate = {**alert, "name": "Resolution rate", "value": 0.75, "goal": 0.9, "unit": "rate"}
    rate["direction"] = "min"
    assert alert_text(rate, cleared=True) == (
        ":white_check_mark: Back within target: Resolution rate 75.0% (target ≥ 90.0%)."
    )


@pytest.mark.slack
def test_a_missed_target_is_posted_to_slack_once_and_its_end_too(
    make_settings: Callable[..., Settings], fake_rasa: tuple[FakeRasa, str]
) -> None:
    slack = FakeSlack()
    with serve_in_thread(slack.app(), what="fake Slack") as slack_url:
        settings = make_settings(
            **slack_settings(slack_url),
            handoff_sweep_interval_s=0.2,
        )
        with serving(create_app(settings)) as base:
            # A complaint a minute ago: 1 conversation of 1 (target ≤ 1.5 %).
            event = user_event(
                "telegram:c1", "this is a scandal", time.time() - 60, intent="complain"
            )
            httpx.post(
                f"http://{base}/api/internal/events",
                headers=service_headers(),
                json={"events": [event]},
            ).raise_for_status()

            def posts(mark: str) -> list[dict[str, Any]]:
                return [p for p in slack.posts() if mark in str(p.get("text"))]

            missed = _wait(lambda: posts(":chart_with_downwards_trend:"), "the target alert")
            time.sleep(1.0)  # five more sweeps: posted once
            assert posts(":chart_with_downwards_trend:") == missed and len(missed) == 1
            assert "Complaint rate 100.0% (target ≤ 1.5%)" in missed[0]["text"]
            token = httpx.post(
                f"http://{base}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
            ).json()["access_token"]
            httpx.put(
                f"http://{base}/api/metrics/targets",
                headers={"Authorization": f"Bearer {token}"},
                json={"complaint_rate": 1.0},
            ).raise_for_status()
            back = _wait(lambda: posts(":white_check_mark:"), "the all-clear")
            assert back[0]["channel"] == CHANNEL
            assert "Complaint rate 100.0% (target ≤ 100.0%)" in back[0]["text"]
