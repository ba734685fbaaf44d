"""The weekly report of a fixed week from seeded data (``test_metrics_kpis``'s set).

Week 2026-W10 is Monday 2026-03-02 to Sunday 03-08 (Asia/Shanghai). Sessions: k4, k5a,
k5b, k6 (day 2) and k2's return on 03-05. The week before (W09, to Sunday 03-01): p1,
k1a, k1b, k2, k3.

| target | W10 | W09 |
|---|---|---|
| complaint rate | 1/5 (k6) | 1/5 (k3) |
| resolution rate | 4/5 (k4 waits) | 4/5 (k1a came back) |
| first-contact resolution | 3/5 (k4, k5a) | 4/5 (k1a) |
| agent first response | 40 s (k6) | 20 s (k3) |
| satisfied | 0/1 (★2) | 1/1 (★5) |
| bot first response | 0.5 s | 0.5 s |
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, bearer
from tests.handoff.test_metrics import Clock, clock  # noqa: F401
from tests.handoff.test_metrics_kpis import kpi_seeded  # noqa: F401
from tests.handoff.test_slack import CHANNEL, FakeSlack, slack_settings
from tests.support.servers import serve_in_thread

MakeAgent = Callable[..., dict[str, str]]
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _cards(figures: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        c["target"]: (c["value"], c["met"], c["previous"], c["change"]) for c in figures["targets"]
    }


def test_the_week_against_its_targets(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: MakeAgent,
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    made = app_client.post("/api/metrics/reports/2026-W10", headers=admin_headers)
    assert made.status_code == 200, made.text
    found = made.json()["figures"]
    assert (found["from"], found["to"]) == ("2026-03-02", "2026-03-08")
    assert found["previous_period"] == {"from": "2026-02-23", "to": "2026-03-01"}
    assert found["summary"]["conversations"] == 5
    assert _cards(found) == {
        "bot_first_response_s": (0.5, True, 0.5, 0.0),
        "human_first_response_s": (40.0, False, 20.0, 20.0),
        "resolution_rate": (0.8, False, 0.8, 0.0),
        "first_contact_resolution_rate": (0.6, False, 0.8, -0.2),
        "csat_satisfied_rate": (0.0, False, 1.0, -1.0),
        "complaint_rate": (0.2, False, 0.2, 0.0),
    }
    assert [(r["text"], r["messages"]) for r in found["misunderstood"]] == [
        ("qqq", 1),
        ("do you sell gift cards?", 1),
    ]
    assert [(r["reason"], r["handoffs"]) for r in found["handoff_reasons"]] == [
        ("complaint", 1),
        ("explicit_request", 1),
    ]
    assert [
        (c["conversation_id"], c["rating"], c["comment"]) for c in found["negative_comments"]
    ] == [("webchat:k6", 2, "far too slow")]
    assert [(a["agent"], a["handled"], a["first_response_s_p50"]) for a in found["agents"]] == [
        ("alice", 1, 40.0)
    ]
    assert made.json()["url"] == "/dashboard/reports/2026-W10"
    # Kept in the service, for admins only.
    page = app_client.get("/dashboard/reports/2026-W10", headers=admin_headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Complaint rate · 投诉率" in page.text and "✗ Missed · 未达标" in page.text
    assert "20.0%" in page.text and "40 s" in page.text and "far too slow" in page.text
    table = app_client.get("/dashboard/reports/2026-W10.csv", headers=admin_headers)
    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    assert {r["target"]: (r["value"], r["met"]) for r in rows}["complaint_rate"] == ("0.2", "no")
    listed = app_client.get("/dashboard/reports/", headers=admin_headers)
    assert 'href="2026-W10"' in listed.text
    agent = make_agent("bob")
    assert app_client.get("/dashboard/reports/2026-W10", headers=agent).status_code == 403
    assert app_client.post("/api/metrics/reports/2026-W10", headers=agent).status_code == 403
    assert app_client.get("/dashboard/reports/2026-W11", headers=admin_headers).status_code == 404
    for bad in ("2026-W54", "2026-49", "W49"):
        response = app_client.post(f"/api/metrics/reports/{bad}", headers=admin_headers)
        assert response.status_code == 400, bad


def test_customer_text_in_the_report_is_escaped(
    app_client: TestClient,
    admin_headers: dict[str, str],
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    from tests.handoff.helpers import user_event
    from tests.handoff.test_metrics import _events, _local

    hostile = "<script>alert(1)</script>"
    _events(
        app_client,
        kpi_seeded,
        user_event("rest:x", hostile, _local(3, 9, 0), intent="nlu_fallback"),
    )
    app_client.post("/api/metrics/reports/2026-W10", headers=admin_headers).raise_for_status()
    page = app_client.get("/dashboard/reports/2026-W10", headers=admin_headers).text
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.slack
def test_the_report_is_posted_to_slack(
    app_client: TestClient,
    make_settings: Callable[..., Settings],
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    slack = FakeSlack()
    with serve_in_thread(slack.app(), what="fake Slack") as slack_url:
        settings = make_settings(
            **slack_settings(slack_url),
        )
        with TestClient(create_app(settings)) as client:
            made = client.post("/api/metrics/reports/2026-W10", headers=bearer(client, *ADMIN))
            assert made.status_code == 200, made.text
    posts = [p for p in slack.posts() if "Weekly report" in str(p.get("text"))]
    assert len(posts) == 1 and posts[0]["channel"] == CHANNEL
    text = posts[0]["text"]
    assert text.startswith("*Weekly report 2026-W10* (2026-03-02 – 2026-03-08): <")
    assert ":x: Complaint rate · 投诉率: 20.0% (target ≤ 1.5%, week before 20.0%)" in text
    assert ":white_check_mark: Bot first response (median) · 机器人首次响应: 0.5 s" in text


def test_the_weekly_report_is_due_on_its_day_and_hour() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from handoff.services.metrics.report import due

    zone = ZoneInfo("Asia/Shanghai")
    monday_8 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 08:00 local, Monday of W50
    assert due(monday_8, zone, weekday=0, hour=9) is None
    assert due(monday_8.replace(hour=1), zone, weekday=0, hour=9) == "2026-W49"
    assert due(monday_8.replace(hour=1), zone, weekday=2, hour=9) is None


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_python_m_handoff_report(
    settings: Settings,
    kpi_seeded: Clock,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HANDOFF_", "SLACK_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "BOT_VAR_DIR": str(tmp_path / "var"),
        "HANDOFF_DATABASE_URL": settings.database,
        "HANDOFF_TIMEZONE": "Asia/Shanghai",
    }
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "report", "--week", "2026-W10", "--out", str(out)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "report 2026-W10 kept at /dashboard/reports/2026-W10" in done.stdout
    html = (out / "report-2026-W10.html").read_text("utf-8")
    assert "Weekly report 2026-W10" in html and "far too slow" in html
    rows = list(csv.DictReader(io.StringIO((out / "report-2026-W10.csv").read_text("utf-8-sig"))))
    assert {r["target"]: r["value"] for r in rows}["first_contact_resolution_rate"] == "0.6"
    bad = subprocess.run(
        [sys.executable, "-m", "handoff", "report", "--week", "2026-W99"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "2026-W99" in bad.stderr


def test_the_sweep_makes_last_weeks_report_once(
    app_client: TestClient,
    admin_headers: dict[str, str],
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    from tests.handoff.test_metrics import _local

    services = app_client.app.state.services  # type: ignore[attr-defined]

    def sweep() -> None:
        assert app_client.portal is not None
        app_client.portal.call(services.conversations.sweep)

    kpi_seeded.at(_local(9, 8, 59))  # Monday 2026-03-09, 08:59 local: not yet
    sweep()
    assert app_client.get("/dashboard/reports/2026-W10", headers=admin_headers).status_code == 404
    kpi_seeded.at(_local(9, 9, 0))
    sweep()
    page = app_client.get("/dashboard/reports/2026-W10", headers=admin_headers)
    assert page.status_code == 200 and "Weekly report 2026-W10" in page.text
    first = app_client.get("/dashboard/reports/2026-W10.csv", headers=admin_headers).text
    kpi_seeded.at(_local(9, 9, 30))
    sweep()  # already made: kept as it was
    listed = app_client.get("/dashboard/reports/", headers=admin_headers).text
    assert listed.count('href="2026-W10"') == 1
    assert app_client.get("/dashboard/reports/2026-W10.csv", headers=admin_headers).text == first
