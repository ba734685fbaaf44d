"""Retention: conversations idle past ``HANDOFF_RETENTION_DAYS`` are erased (the same code
as a customer's erasure), trackers idle past ``TRACKER_RETENTION_DAYS`` too, with the
service's clock pinned; on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from handoff import db as handoff_db
from handoff.api.app import create_app
from handoff.exported_labels import ExportedLabels
from handoff.services.customers import Retention, RetentionReport
from handoff.settings import Settings
from handoff.tracker_store import TrackerStore
from tests.handoff.helpers import bot_event, handoff_body, service_headers, user_event
from tests.handoff.rasa_side import (  # noqa: F401 (fixtures)
    Clock,
    RasaSide,
    clock_fixture,
    held_texts,
    rasa_side_fixture,
    seed_trackers,
    settings_fixture,
    tracker_store_spec,
)

DAY0 = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
OLD = DAY0.timestamp()
RECENT = (DAY0 + timedelta(days=20)).timestamp()
NOW = DAY0 + timedelta(days=40)


def _post_events(client: TestClient, clock: Clock, *events: dict[str, Any]) -> None:
    for event in events:
        clock.at(event["timestamp"])
        response = client.post(
            "/api/internal/events", headers=service_headers(), json={"events": [event]}
        )
        assert response.status_code == 202, response.text


def _seed(client: TestClient, clock: Clock, rasa_side: RasaSide) -> None:
    """Old and recent conversations, an old one still waiting for an agent, and a
    tracker the service never saw."""
    old = [
        user_event("telegram:old1", "zz-old customer words", OLD, intent="greet"),
        bot_event("telegram:old1", "zz-old bot answer", OLD + 1),
    ]
    recent = [
        user_event("telegram:new1", "zz-recent customer words", RECENT, intent="greet"),
        bot_event("telegram:new1", "zz-recent bot answer", RECENT + 1),
    ]
    waiting = [user_event("webchat:wait1", "zz-waiting words", OLD, intent="request_human")]
    _post_events(client, clock, *old, *recent, *waiting)
    clock.at(OLD + 5)
    body = handoff_body("webchat:wait1", transcript=[], intents=[])
    response = client.post("/api/internal/handoffs", headers=service_headers(), json=body)
    assert response.status_code == 201, response.text
    # Refused by the service (a NUL) long ago: kept as a dead letter with its text, under
    # a conversation that is otherwise recent.
    poisoned = user_event("telegram:new1", "zz-dead letter words\x00", OLD + 2)
    refused = client.post(
        "/api/internal/events", headers=service_headers(), json={"events": [poisoned]}
    )
    assert refused.status_code == 422, refused.text
    lost = [user_event("telegram:lost1", "zz-tracker only words", OLD)]
    seed_trackers(
        tracker_store_spec(rasa_side.tracker_url),
        {"telegram:old1": old, "telegram:new1": recent, "telegram:lost1": lost},
    )


async def _run(settings: Settings) -> RetentionReport:
    engine = handoff_db.create_engine(settings.database)
    tracker_store = TrackerStore.from_settings(settings)
    labels = ExportedLabels.from_settings(settings)
    try:
        retention = Retention(
            handoff_db.sessionmaker(engine),
            tracker_store,
            labels,
            days=settings.handoff_retention_days,
            tracker_days=settings.tracker_retention,
        )
        return await retention.perform()
    finally:
        await tracker_store.aclose()
        await labels.aclose()
        await engine.dispose()


def _summary(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/metrics/summary?from=2026-01-01&to=2026-02-28", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _settings(
    make_settings: Callable[..., Settings], rasa_side: RasaSide, **limits: Any
) -> Settings:
    """The service's settings pointed at the Rasa side, with retention ``limits``."""
    return make_settings(
        handoff_tracker_store_url=rasa_side.tracker_url,
        handoff_registry_url=rasa_side.registry_url,
        handoff_labels_file=rasa_side.labels_file,
        **limits,
    )


def test_retention_erases_what_is_idle_past_the_limits(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_settings: Callable[..., Settings],
    rasa_side: RasaSide,
    clock: Clock,
    db: Engine,
) -> None:
    _seed(app_client, clock, rasa_side)
    before = _summary(app_client, admin_headers)
    assert before["conversations"] == 3
    assert "zz-dead letter words" in held_texts(db, rasa_side)
    clock.now = NOW
    settings = _settings(
        make_settings, rasa_side, handoff_retention_days=30, tracker_retention_days=30
    )
    report = asyncio.run(_run(settings))
    assert report.conversations == ["telegram:old1"] and report.dead_letters == 1
    assert report.tracker_only == ["telegram:lost1"]
    held = held_texts(db, rasa_side)
    for gone in (
        "zz-old customer words",
        "zz-old bot answer",
        "zz-tracker only words",
        "zz-dead letter words",
    ):
        assert gone not in held
    for kept in ("zz-recent customer words", "zz-recent bot answer", "zz-waiting words"):
        assert kept in held  # recent, or waiting for an agent: never erased by age
    assert _summary(app_client, admin_headers) == before
    records = app_client.get("/api/audit?action=customer.erase", headers=admin_headers).json()[
        "records"
    ]
    assert sorted((r["actor"], r["conversation_id"]) for r in records) == [
        ("retention", "telegram:lost1"),
        ("retention", "telegram:old1"),
    ]
    # Erased rows are not erased again; a day later nothing new is due.
    assert asyncio.run(_run(settings)) == RetentionReport()


def test_a_shorter_tracker_limit_prunes_only_the_tracker_store(
    app_client: TestClient,
    make_settings: Callable[..., Settings],
    rasa_side: RasaSide,
    clock: Clock,
    db: Engine,
) -> None:
    _seed(app_client, clock, rasa_side)
    clock.now = NOW
    settings = _settings(
        make_settings, rasa_side, handoff_retention_days=None, tracker_retention_days=10
    )
    report = asyncio.run(_run(settings))
    assert report.conversations == []
    assert sorted(report.tracker_only) == ["telegram:lost1", "telegram:new1", "telegram:old1"]
    held = held_texts(db, rasa_side)
    assert "zz-old customer words" in held  # the service's database keeps its own
    assert held.count("zz-recent customer words") == 1  # the message row, not the tracker


def test_the_app_runs_retention_at_start(
    app_client: TestClient,
    make_settings: Callable[..., Settings],
    rasa_side: RasaSide,
    clock: Clock,
    db: Engine,
) -> None:
    _seed(app_client, clock, rasa_side)
    clock.now = NOW
    settings = _settings(make_settings, rasa_side, handoff_retention_days=30)
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 20
        while any(
            gone in held_texts(db, rasa_side)
            for gone in ("zz-old customer words", "zz-tracker only words")
        ):
            assert time.monotonic() < deadline, "the retention job did not run"
            time.sleep(0.1)
    assert "zz-recent customer words" in held_texts(db, rasa_side)
