"""A customer's rights: export and erasure, over the service's database and Rasa's
tracker store (written by Rasa's own ``SQLTrackerStore``), on SQLite and on
PostgreSQL + Redis."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from handoff.db import sync_database_url
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

MakeAgent = Callable[..., dict[str, str]]
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in Asia/Shanghai
RANGE = "from=2026-03-01&to=2026-03-01"
CID = "telegram:777001"
OTHER = "telegram:777002"
# The texts erasure must remove, wherever the service or Rasa put them.
SECRETS = {
    "customer": "my phone is 13812345678 please",
    "fallback": "xqzv blorp 44 Harbour Road",
    "bot": "Your parcel goes to 44 Harbour Road",
    "agent": "Refund sent to card 6222020202020202",
    "note": "customer lives at 44 Harbour Road, angry",
    "comment": "Alice was kind zz-comment",
    "summary": "wants a refund zz-summary",
    "slot": "zz-slot-secret-address",
    "label": "zz-label where is my parcel at 44 Harbour Road",
}
KEPT = "other customer keeps this zz-kept"
KEPT_LABEL = "zz-kept-label where is my order"


def _events(client: TestClient, clock: Clock, *events: dict[str, Any]) -> None:
    for event in events:
        clock.at(event["timestamp"])
        response = client.post(
            "/api/internal/events", headers=service_headers(), json={"events": [event]}
        )
        assert response.status_code == 202, response.text


def _conversation(cid: str, t: float) -> list[dict[str, Any]]:
    """A fallback, a question with a slot, the bot's answers, an after-sales case."""
    return [
        user_event(cid, SECRETS["fallback"], t, intent="nlu_fallback", confidence=0.2),
        bot_event(cid, "Sorry?", t + 0.5),
        user_event(cid, SECRETS["customer"], t + 30, intent="request_refund"),
        {
            "sender_id": cid,
            "event": "slot",
            "timestamp": t + 30.2,
            "name": "address",
            "value": SECRETS["slot"],
        },
        {
            "sender_id": cid,
            "event": "slot",
            "timestamp": t + 30.3,
            "name": "case_opened",
            "value": {"case_id": "AS-77", "case_type": "refund", "order_id": "20241111009"},
        },
        bot_event(cid, SECRETS["bot"], t + 31),
    ]


def _seed(client: TestClient, clock: Clock, make_agent: MakeAgent, tracker: dict[str, Any]) -> None:
    """``CID``: bot turns, a hand-off, an agent reply and note, resolved, rated with a
    comment; ``OTHER``: a contained conversation. Both in the tracker store too."""
    alice = make_agent("alice", skills=["billing"])
    erased = _conversation(CID, T0)
    kept = [
        user_event(OTHER, KEPT, T0 + 100, intent="greet", confidence=0.9),
        bot_event(OTHER, "Hello", T0 + 100.4),
    ]
    _events(client, clock, *erased, *kept)
    clock.at(T0 + 40)
    body = handoff_body(
        CID,
        summary=SECRETS["summary"],
        slots={"address": SECRETS["slot"], "language": "en"},
        transcript=[{"role": "customer", "text": SECRETS["customer"], "timestamp": T0 + 30}],
        intents=[],
    )
    response = client.post("/api/internal/handoffs", headers=service_headers(), json=body)
    assert response.status_code == 201, response.text
    clock.at(T0 + 50)
    assert client.post(f"/api/conversations/{CID}/assign", headers=alice).status_code == 200
    clock.at(T0 + 60)
    sent = client.post(
        f"/api/conversations/{CID}/messages", headers=alice, json={"text": SECRETS["agent"]}
    )
    assert sent.status_code in (200, 201), sent.text
    note = client.post(
        f"/api/conversations/{CID}/notes", headers=alice, json={"text": SECRETS["note"]}
    )
    assert note.status_code == 201, note.text
    clock.at(T0 + 300)
    assert client.post(f"/api/conversations/{CID}/resolve", headers=alice).status_code == 200
    _events(
        client,
        clock,
        user_event(CID, "5", T0 + 310, intent="inform"),
        user_event(CID, SECRETS["comment"], T0 + 320, intent="inform"),
    )
    seed_trackers(
        tracker,
        {
            CID: [*erased, user_event(CID, SECRETS["comment"], T0 + 320)],
            OTHER: kept,
        },
    )


def _label(text_: str, cid: str) -> dict[str, Any]:
    source = {"annotation_id": 1, "conversation_id": cid, "reason": "nlu_fallback"}
    return {"text": text_, "intent": "track_shipment", "entities": [], "source": source}


@pytest.fixture
def seeded(
    app_client: TestClient, clock: Clock, make_agent: MakeAgent, rasa_side: RasaSide
) -> dict[str, Any]:
    spec = tracker_store_spec(rasa_side.tracker_url) | {
        "labels": [_label(SECRETS["label"], CID), _label(KEPT_LABEL, OTHER)],
        "labels_file": str(rasa_side.labels_file),
        "registry_url": sync_database_url(rasa_side.registry_url).replace("+psycopg", ""),
    }
    _seed(app_client, clock, make_agent, spec)
    return spec


def test_export_holds_everything_about_the_customer(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: MakeAgent,
    seeded: dict[str, Any],
) -> None:
    response = app_client.get(f"/api/customers/{CID}/export", headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found = response.json()
    assert found["conversation_id"] == CID
    assert found["conversation"]["summary"] == SECRETS["summary"]
    assert found["conversation"]["context"]["slots"]["address"] == SECRETS["slot"]
    texts = [m["text"] for m in found["messages"]]
    assert {SECRETS["customer"], SECRETS["fallback"], SECRETS["bot"], SECRETS["agent"]} <= set(
        texts
    )
    assert SECRETS["note"] not in texts
    assert [n["text"] for n in found["notes"]] == [SECRETS["note"]]
    assert len(found["handoffs"]) == 1 and found["handoffs"][0]["outcome"] == "resolved"
    assert [(r["rating"], r["comment"]) for r in found["csat"]] == [(5, SECRETS["comment"])]
    assert [(c["case_id"], c["order_id"]) for c in found["cases"]] == [("AS-77", "20241111009")]
    assert SECRETS["fallback"] in [a["text"] for a in found["annotations"]]
    assert found["annotation_history"] == []  # no trainer has acted on them yet
    tracker_texts = [e.get("text") for e in found["tracker_events"]]
    assert SECRETS["customer"] in tracker_texts and SECRETS["comment"] in tracker_texts
    assert any(e.get("value") == SECRETS["slot"] for e in found["tracker_events"])
    assert KEPT not in response.text
    records = app_client.get(
        f"/api/audit?conversation={CID}&action=customer.export", headers=admin_headers
    ).json()["records"]
    assert len(records) == 1 and records[0]["address"]
    assert records[0]["detail"]["messages"] == len(found["messages"])

    # Only admins; an unknown customer is a 404; a too long id is refused.
    agent = make_agent("bob")
    assert app_client.get(f"/api/customers/{CID}/export", headers=agent).status_code == 403
    assert (
        app_client.get("/api/customers/telegram:0/export", headers=admin_headers).status_code == 404
    )
    for hostile in ("x" * 300, "telegram:1%00", "%ED%A0%80", "%FF", "%20"):
        for method, action in (("GET", "export"), ("POST", "erase")):
            answer = app_client.request(
                method, f"/api/customers/{hostile}/{action}", headers=admin_headers
            )
            assert answer.status_code in (400, 404), (hostile, action, answer.text)


def _figures(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """The dashboard's figures that do not depend on any text."""
    figures: dict[str, Any] = {}
    summary = client.get(f"/api/metrics/summary?{RANGE}", headers=headers)
    assert summary.status_code == 200, summary.text
    figures["summary"] = summary.json()
    for name in (
        "channels",
        "handoff-reasons",
        "intents",
        "intent-trend",
        "csat",
        "agents",
        "after-sales-cases",
    ):
        answer = client.get(f"/api/metrics/{name}?{RANGE}", headers=headers)
        assert answer.status_code == 200, answer.text
        figures[name] = answer.json()
    return figures


def test_erasure_leaves_no_trace_and_the_same_figures(
    app_client: TestClient,
    admin_headers: dict[str, str],
    db: Engine,
    rasa_side: RasaSide,
    seeded: dict[str, Any],
) -> None:
    before = _figures(app_client, admin_headers)
    assert before["summary"]["conversations"] == 2
    assert before["summary"]["csat_count"] == 1 and before["summary"]["after_sales_cases"] == 1
    held = held_texts(db, rasa_side)
    assert all(secret in held for secret in SECRETS.values())  # the search can find them

    response = app_client.post(f"/api/customers/{CID}/erase", headers=admin_headers)
    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["erased"] is True and erased["tracker_events"] >= 7
    assert erased["messages"] >= 6 and erased["annotations"] >= 1

    held = held_texts(db, rasa_side)
    for name, secret in SECRETS.items():
        assert secret not in held, f"the {name} text survived erasure"
    # The access records (the audit log) name who erased whom, by design.
    outside_audit = "\n".join(line for line in held.splitlines() if not line.startswith("audit"))
    assert CID not in outside_audit and "20241111009" not in held and "AS-77" not in held
    assert KEPT in held and KEPT_LABEL in held  # the other customer is untouched
    listed = app_client.get("/api/conversations?status=all", headers=admin_headers).json()
    assert listed["conversations"] == []  # nothing erased shows in the inbox
    assert erased["exported_labels"] == 2  # the annotations file and the registry's copy
    records = app_client.get(
        f"/api/audit?conversation={CID}&action=customer.erase", headers=admin_headers
    ).json()["records"]
    assert [r["detail"]["messages"] for r in records] == [erased["messages"]]
    assert _figures(app_client, admin_headers) == before

    assert app_client.get(f"/api/customers/{CID}/export", headers=admin_headers).status_code == 404
    assert app_client.post(f"/api/customers/{CID}/erase", headers=admin_headers).status_code == 404
    labels = app_client.get("/api/annotations/export", headers=service_headers())
    assert labels.status_code == 200 and SECRETS["fallback"] not in labels.text


def test_erasure_waits_until_no_agent_holds_the_conversation(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: MakeAgent,
    db: Engine,
    rasa_side: RasaSide,
    clock: Clock,
) -> None:
    cid = "webchat:held-1"
    _events(app_client, clock, user_event(cid, "human please zz-held", T0, intent="request_human"))
    clock.at(T0 + 5)
    body = handoff_body(cid, transcript=[], intents=[])
    assert (
        app_client.post("/api/internal/handoffs", headers=service_headers(), json=body).status_code
        == 201
    )
    response = app_client.post(f"/api/customers/{cid}/erase", headers=admin_headers)
    assert response.status_code == 409, response.text
    assert "zz-held" in held_texts(db, rasa_side)
    agent = make_agent("carol")
    assert app_client.post(f"/api/customers/{cid}/erase", headers=agent).status_code == 403


def test_erasure_keeps_the_rest_of_a_shared_label_group_undoable(
    app_client: TestClient,
    admin_headers: dict[str, str],
    clock: Clock,
    db: Engine,
) -> None:
    first, second = "webchat:group-a", "webchat:group-b"
    _events(
        app_client,
        clock,
        user_event(first, "blorf the gizmo please", T0, intent="nlu_fallback", confidence=0.1),
        user_event(
            second, "blorf the gizmo please!", T0 + 9, intent="nlu_fallback", confidence=0.1
        ),
    )
    queue = app_client.get("/api/annotations?status=new", headers=admin_headers).json()
    group = next(g for g in queue["items"] if "blorf" in g["text"])
    assert group["count"] == 2
    labelled = app_client.post(
        f"/api/annotations/{group['id']}", headers=admin_headers, json={"intent": "greet"}
    )
    assert labelled.status_code == 200 and labelled.json()["labelled"] == 2
    copy = app_client.get(f"/api/customers/{first}/export", headers=admin_headers).json()
    assert [h["action"] for h in copy["annotation_history"]] == ["label"]

    assert (
        app_client.post(f"/api/customers/{first}/erase", headers=admin_headers).status_code == 200
    )
    with db.connect() as connection:
        rows = connection.execute(text("SELECT id, conversation_id FROM annotation_items")).all()
        history = connection.execute(
            text("SELECT item_ids, previous FROM annotation_history")
        ).all()
    assert [cid for _, cid in rows] == [second]
    remaining = rows[0][0]
    assert [json.loads(h[0]) if isinstance(h[0], str) else h[0] for h in history] == [[remaining]]
    undone = app_client.post(f"/api/annotations/{remaining}/undo", headers=admin_headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["restored"] == 1
