"""Access records: what is recorded, who may read them, the filters and the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.handoff.helpers import AGENT_PASSWORD, handoff_body, service_headers

NEW_PASSWORD = "marble-thistle-oven-24"


def _hand_off(client: TestClient, cid: str) -> None:
    response = client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid)
    )
    assert response.status_code == 201, response.text


def _records(client: TestClient, headers: dict[str, str], **query: str) -> list[dict[str, object]]:
    response = client.get("/api/audit", headers=headers, params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] >= len(body["records"])
    return list(body["records"])


def test_views_and_account_changes_are_recorded_with_who_and_where(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    alice = make_agent("alice")
    _hand_off(app_client, "webchat:audit-1")
    assert app_client.get("/api/conversations/webchat:audit-1", headers=alice).status_code == 200
    change = app_client.patch("/api/agents/alice", headers=admin_headers, json={"capacity": 3})
    assert change.status_code == 200
    own = {"current_password": AGENT_PASSWORD, "new_password": NEW_PASSWORD}
    assert app_client.post("/api/me/password", headers=alice, json=own).status_code == 200
    canned = {"shortcut": "hi", "text": "Hello!", "language": "en"}
    assert (
        app_client.post("/api/canned-responses", headers=admin_headers, json=canned).status_code
        == 201
    )

    records = _records(app_client, admin_headers)
    by_action = {str(r["action"]): r for r in records}
    assert set(by_action) >= {
        "agent.create",
        "conversation.view",
        "agent.change",
        "password.change",
        "canned.create",
    }
    view = by_action["conversation.view"]
    assert (view["actor"], view["conversation_id"], view["address"]) == (
        "alice",
        "webchat:audit-1",
        "testclient",
    )
    assert by_action["agent.create"]["actor"] == "root"
    assert by_action["agent.create"]["target"] == "alice"
    assert by_action["agent.change"]["detail"] == {"capacity": 3}
    assert by_action["password.change"]["target"] == "alice"
    assert by_action["canned.create"]["target"] == "en:hi"
    # Newest first.
    assert records[0]["action"] == "canned.create"


def test_a_password_set_by_an_admin_is_recorded_without_the_password(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
    db: Engine,
) -> None:
    make_agent("bob")
    body = {"password": NEW_PASSWORD, "role": "trainer"}
    assert app_client.patch("/api/agents/bob", headers=admin_headers, json=body).status_code == 200
    [change] = _records(app_client, admin_headers, action="agent.change")
    assert change["detail"] == {"password": "(set)", "role": "trainer"}
    with db.connect() as connection:
        stored = connection.execute(text("SELECT detail FROM audit_log")).scalars().all()
    assert not any(NEW_PASSWORD in str(detail) for detail in stored)


def test_only_admins_read_the_records(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    alice = make_agent("alice")
    trainer = make_agent("tess", role="trainer")
    assert app_client.get("/api/audit").status_code == 401
    assert app_client.get("/api/audit", headers=alice).status_code == 403
    assert app_client.get("/api/audit", headers=trainer).status_code == 403


def test_filters_by_agent_conversation_action_and_day(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
    db: Engine,
) -> None:
    alice, bob = make_agent("alice"), make_agent("bob")
    for cid in ("webchat:f-1", "webchat:f-2"):
        _hand_off(app_client, cid)
    app_client.get("/api/conversations/webchat:f-1", headers=alice)
    app_client.get("/api/conversations/webchat:f-2", headers=alice)
    app_client.get("/api/conversations/webchat:f-1", headers=bob)
    # One old record, 40 days ago, to test the day range.
    old = datetime.now(UTC) - timedelta(days=40)
    with db.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, conversation_id, detail) "
                "VALUES (:at, 'alice', 'conversation.view', 'webchat:f-1', '{}')"
            ),
            {"at": old},
        )

    by_alice = _records(app_client, admin_headers, agent="alice", action="conversation.view")
    assert len(by_alice) == 3
    f1 = _records(app_client, admin_headers, conversation="webchat:f-1")
    assert sorted(str(r["actor"]) for r in f1) == ["alice", "alice", "bob"]
    assert _records(app_client, admin_headers, action="conversation.reveal") == []
    day = old.astimezone().date()
    # The shop's zone is Asia/Shanghai; a day either side covers the old record whatever it is.
    around = _records(
        app_client,
        admin_headers,
        **{"from": str(day - timedelta(days=1)), "to": str(day + timedelta(days=1))},
    )
    assert [r["conversation_id"] for r in around] == ["webchat:f-1"]
    recent = _records(app_client, admin_headers, **{"from": str(day + timedelta(days=2))})
    assert len(recent) == len(_records(app_client, admin_headers)) - 1


def test_bad_filters_are_refused_with_4xx(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    for query in (
        {"from": "2024-13-01"},
        {"to": "9999-12-31"},
        {"from": "2025-02-02", "to": "2025-02-01"},
        {"action": "DROP TABLE"},
        {"agent": "a\x00b"},
        {"offset": "2147483648000"},
        {"format": "xml"},
    ):
        response = app_client.get("/api/audit", headers=admin_headers, params=query)
        assert response.status_code in (400, 422), (query, response.text)


def test_csv_lists_every_match_and_is_itself_recorded(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    alice = make_agent("alice")
    _hand_off(app_client, "webchat:csv-1")
    app_client.get("/api/conversations/webchat:csv-1", headers=alice)
    response = app_client.get("/api/audit", headers=admin_headers, params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["conversation.view", "agent.create"]
    assert rows[0]["conversation_id"] == "webchat:csv-1"
    [download] = _records(app_client, admin_headers, action="csv.export")
    assert (download["actor"], download["target"]) == ("root", "audit")


def test_a_view_is_recorded_once_per_agent_and_window(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
    db: Engine,
) -> None:
    alice, bob = make_agent("alice"), make_agent("bob")
    _hand_off(app_client, "webchat:w-1")
    for _ in range(3):  # the inbox reloads the open conversation on every event
        app_client.get("/api/conversations/webchat:w-1", headers=alice)
    app_client.get("/api/conversations/webchat:w-1", headers=bob)
    views = _records(app_client, admin_headers, action="conversation.view")
    assert sorted(str(r["actor"]) for r in views) == ["alice", "bob"]
    # Once the window has passed, the next view is recorded again.
    with db.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET at = :at WHERE actor = 'alice'"),
            {"at": datetime.now(UTC) - timedelta(minutes=11)},
        )
    app_client.get("/api/conversations/webchat:w-1", headers=alice)
    views = _records(app_client, admin_headers, action="conversation.view", agent="alice")
    assert len(views) == 2
