"""The conversation life cycle through the API, against a stand-in Rasa."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import (
    RASA_TOKEN,
    SERVICE_TOKEN,
    bot_event,
    handoff_body,
    service_headers,
    user_event,
)

MakeAgent = Callable[..., dict[str, str]]


def _hand_off(client: TestClient, cid: str, **extra: object) -> dict[str, object]:
    response = client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid, **extra)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _events(client: TestClient, *events: dict[str, object]) -> None:
    response = client.post(
        "/api/internal/events", headers=service_headers(), json={"events": list(events)}
    )
    assert response.status_code == 202, response.text


def _detail(client: TestClient, headers: dict[str, str], cid: str) -> dict[str, object]:
    response = client.get(f"/api/conversations/{cid}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_hand_off_queues_with_position_and_context(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    first = _hand_off(app_client, "telegram:1")
    second = _hand_off(app_client, "telegram:2")
    assert first["status"] == "pending" and first["queue_position"] == 1
    assert second["queue_position"] == 2
    assert second["expected_wait_s"] == 240  # documented default 120 s per place, no agent
    assert second["agents_online"] == 0 and second["business_hours_open"] is True
    # An urgent complaint goes ahead of both.
    urgent = _hand_off(app_client, "wechat:o1", reason="complaint")
    assert urgent["queue_position"] == 1
    # Handing off again while waiting is idempotent.
    assert _hand_off(app_client, "telegram:1")["queue_position"] == 2
    listed = app_client.get("/api/conversations?status=pending", headers=admin_headers).json()
    assert [c["id"] for c in listed["conversations"]] == ["wechat:o1", "telegram:1", "telegram:2"]
    assert listed["counts"] == {"pending": 3, "mine": 0, "open": 0, "resolved": 0}
    row = listed["conversations"][0]
    assert row["team"] == "complaints" and row["urgent"] is True and row["channel"] == "wechat"
    assert set(row) >= {
        "id",
        "channel",
        "status",
        "reason",
        "team",
        "urgent",
        "assignee",
        "language",
        "summary",
        "waiting_since",
        "flagged_wait",
        "last_message",
        "unread",
    }
    detail = _detail(app_client, admin_headers, "telegram:1")
    assert [m["text"] for m in detail["messages"] if m["role"] != "activity"] == [
        "human please",
        "Connecting you",
    ]
    assert detail["context"]["slots"]["order_id"] == "20241105001"
    assert detail["context"]["intents"][0]["confidence"] == 0.93
    assert detail["context"]["reason"] == "explicit_request"


def test_outside_business_hours_says_when_it_opens(
    make_settings: Callable[..., object],
) -> None:
    from handoff.api.app import create_app

    settings = make_settings(handoff_business_hours="00:00-00:01")
    with TestClient(create_app(settings)) as client:  # type: ignore[arg-type]
        answer = _hand_off(client, "telegram:5")
    assert answer["business_hours_open"] is False
    assert answer["next_open_at"] and answer["next_open_at"].endswith("+08:00")


def test_auto_assignment_by_skill_capacity_and_urgency(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    billing = make_agent("bill", skills=["billing"], capacity=1)
    make_agent("lena", skills=["logistics"], capacity=2, online=False)
    _hand_off(app_client, "telegram:10", intent="request_refund")  # billing
    _hand_off(app_client, "telegram:11", intent="track_shipment")  # logistics, nobody online
    _hand_off(app_client, "telegram:12", intent="check_refund_progress")  # billing, waits
    _hand_off(app_client, "telegram:13", reason="sensitive_topic")  # complaints, urgent
    # Nobody online yet: everything waits.
    assert (
        app_client.post("/api/me/presence", headers=billing, json={"online": True}).status_code
        == 200
    )
    mine = app_client.get("/api/conversations?status=mine", headers=billing).json()
    assert [c["id"] for c in mine["conversations"]] == ["telegram:10"]
    assert mine["counts"]["mine"] == 1
    # Capacity 1: the second billing conversation keeps waiting.
    pending = app_client.get("/api/conversations?status=pending", headers=billing).json()
    ids = [c["id"] for c in pending["conversations"]]
    assert ids[0] == "telegram:13"  # urgent first
    assert set(ids) == {"telegram:11", "telegram:12", "telegram:13"}
    # A generalist with the complaints skill comes online: the urgent one goes first.
    make_agent("cora", skills=["complaints", "billing"], capacity=1, online=True)
    cora = app_client.get("/api/conversations/telegram:13", headers=billing).json()
    assert cora["assignee"] == "cora" and cora["status"] == "open"
    assert (
        app_client.get("/api/conversations/telegram:12", headers=billing).json()["assignee"] is None
    )


def test_claim_and_transfer(
    app_client: TestClient, make_agent: MakeAgent, admin_headers: dict[str, str]
) -> None:
    alice = make_agent("alice", skills=["after_sales"])
    bob = make_agent("bob", skills=["billing"])
    _hand_off(app_client, "webchat:s1")
    claimed = app_client.post("/api/conversations/webchat:s1/assign", headers=alice)
    assert claimed.status_code == 200
    assert claimed.json()["conversation"]["assignee"] == "alice"
    assert claimed.json()["conversation"]["status"] == "open"
    # Bob cannot simply take it.
    assert app_client.post("/api/conversations/webchat:s1/assign", headers=bob).status_code == 409
    moved = app_client.post(
        "/api/conversations/webchat:s1/assign", headers=alice, json={"agent": "bob"}
    )
    assert moved.json()["conversation"]["assignee"] == "bob"
    to_team = app_client.post(
        "/api/conversations/webchat:s1/assign", headers=bob, json={"team": "billing"}
    )
    conversation = to_team.json()["conversation"]
    assert conversation["team"] == "billing" and conversation["status"] == "pending"
    assert conversation["assignee"] is None
    unknown = app_client.post(
        "/api/conversations/webchat:s1/assign", headers=bob, json={"agent": "nobody"}
    )
    assert unknown.status_code == 404
    activity = [
        m["text"]
        for m in _detail(app_client, admin_headers, "webchat:s1")["messages"]
        if m["role"] == "activity"
    ]
    assert "Claimed by alice" in activity and "Transferred to bob by alice" in activity
    assert "Transferred to the billing team by bob" in activity


def test_agent_reply_goes_out_and_into_the_tracker(
    app_client: TestClient,
    make_agent: MakeAgent,
    fake_rasa: tuple[FakeRasa, str],
    db: Engine,
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    _hand_off(app_client, "telegram:42")
    reply = app_client.post(
        "/api/conversations/telegram:42/messages",
        headers=alice,
        json={"text": "Hi, I am Alice. Let me check.", "private": False},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["message"]["delivery"] == "sent"
    assert fake.outbound("telegram") == [
        {"recipient_id": "telegram:42", "text": "Hi, I am Alice. Let me check."}
    ]
    sent = next(r for r in fake.requests if r.path.endswith("/outbound"))
    assert sent.headers["authorization"] == f"Bearer {SERVICE_TOKEN}"
    tracker = [r for r in fake.requests if r.path.endswith("/tracker/events")]
    assert (
        tracker[0].path == "/conversations/telegram%3A42/tracker/events"
        or tracker[0].path == "/conversations/telegram:42/tracker/events"
    )
    assert tracker[0].query == {"token": RASA_TOKEN}
    assert tracker[0].body == {
        "event": "bot",
        "text": "Hi, I am Alice. Let me check.",
        "metadata": {"agent": "alice", "source": "handoff"},
    }
    # The event broker echoes the agent turn back: it is not stored twice.
    _events(
        app_client,
        bot_event(
            "telegram:42",
            "Hi, I am Alice. Let me check.",
            1700000100.0,
            agent="alice",
            source="handoff",
        ),
    )
    with db.connect() as connection:
        count = connection.execute(
            text(
                "SELECT count(*) FROM messages WHERE conversation_id = 'telegram:42' "
                "AND text = 'Hi, I am Alice. Let me check.'"
            )
        ).scalar_one()
    assert count == 1
    conversation = app_client.get("/api/conversations/telegram:42", headers=alice).json()
    assert conversation["assignee"] == "alice"  # replying claims it


def test_private_notes_stay_inside(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    _hand_off(app_client, "telegram:43")
    note = app_client.post(
        "/api/conversations/telegram:43/notes",
        headers=alice,
        json={"text": "customer sounds upset"},
    )
    assert note.status_code == 201 and note.json()["message"]["private"] is True
    also = app_client.post(
        "/api/conversations/telegram:43/messages",
        headers=alice,
        json={"text": "check order first", "private": True},
    )
    assert also.status_code == 201
    assert fake.requests == []


def test_failed_send_is_reported_and_kept(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    fake.refuse_outbound = "45015: response out of time limit"
    alice = make_agent("alice")
    _hand_off(app_client, "wechat:o42")
    reply = app_client.post(
        "/api/conversations/wechat:o42/messages",
        headers=alice,
        json={"text": "Sorry for the wait", "private": False},
    )
    assert reply.status_code == 502
    assert "45015" in reply.json()["error"]
    assert reply.json()["message"]["delivery"] == "failed"
    assert fake.tracker_events() == []  # not recorded as said
    stored = [
        m for m in _detail(app_client, alice, "wechat:o42")["messages"] if m["role"] == "agent"
    ]
    assert stored[0]["text"] == "Sorry for the wait" and stored[0]["delivery"] == "failed"


def test_rest_channel_has_no_outbound_route(app_client: TestClient, make_agent: MakeAgent) -> None:
    alice = make_agent("alice")
    _hand_off(app_client, "plainid", channel="rest")
    reply = app_client.post(
        "/api/conversations/plainid/messages",
        headers=alice,
        json={"text": "hello", "private": False},
    )
    assert reply.status_code == 502
    assert "rest channel" in reply.json()["error"]


def test_hand_back_resumes_without_csat(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    _hand_off(app_client, "telegram:50")
    app_client.post("/api/conversations/telegram:50/assign", headers=alice)
    back = app_client.post("/api/conversations/telegram:50/handback", headers=alice)
    assert back.status_code == 200
    assert back.json()["conversation"]["status"] == "bot"
    assert fake.tracker_events("telegram:50") == [
        {"event": "action", "name": "action_listen"},
        {"event": "resume"},
    ]
    assert fake.outbound() == []  # no CSAT prompt
    again = app_client.post("/api/conversations/telegram:50/handback", headers=alice)
    assert again.status_code == 409


def test_resolve_asks_for_rating_then_comment_then_resumes(
    app_client: TestClient,
    make_agent: MakeAgent,
    fake_rasa: tuple[FakeRasa, str],
    db: Engine,
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    _hand_off(app_client, "telegram:60")
    app_client.post("/api/conversations/telegram:60/assign", headers=alice)
    resolved = app_client.post("/api/conversations/telegram:60/resolve", headers=alice)
    assert resolved.status_code == 200
    body = resolved.json()["conversation"]
    assert body["status"] == "resolved" and body["csat_pending"] is True
    prompt = fake.outbound("telegram")[0]
    assert prompt["recipient_id"] == "telegram:60"
    assert [b["payload"] for b in prompt["buttons"]] == ["1", "2", "3", "4", "5"]
    assert "rate" in prompt["text"]  # language en
    assert {"event": "resume"} not in fake.tracker_events()  # still paused
    _events(app_client, user_event("telegram:60", "４", 1700000200.0))  # full-width digit
    comment_question = fake.outbound("telegram")[-1]
    assert "add" in comment_question["text"]
    assert {"event": "resume"} not in fake.tracker_events()
    _events(app_client, user_event("telegram:60", "quick and kind", 1700000210.0))
    assert "Thank you" in fake.outbound("telegram")[-1]["text"]
    assert fake.tracker_events()[-1] == {"event": "resume"}
    with db.connect() as connection:
        rating, comment = connection.execute(
            text("SELECT rating, comment FROM csat_ratings WHERE conversation_id = 'telegram:60'")
        ).one()
    assert (rating, comment) == (4, "quick and kind")
    detail = _detail(app_client, alice, "telegram:60")
    assert detail["csat_pending"] is False
    assert detail["context"]["history"]["csat_average"] == 4
    assert detail["context"]["history"]["conversations"][0]["csat"] == 4
    # A replayed or later message goes to the bot: no further CSAT handling.
    sent_before = len(fake.outbound())
    _events(app_client, user_event("telegram:60", "where is my parcel", 1700000300.0))
    assert len(fake.outbound()) == sent_before


def test_non_rating_after_resolve_resumes_and_replays(
    app_client: TestClient,
    make_agent: MakeAgent,
    fake_rasa: tuple[FakeRasa, str],
    db: Engine,
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    _hand_off(app_client, "webchat:s9")
    app_client.post("/api/conversations/webchat:s9/assign", headers=alice)
    app_client.post("/api/conversations/webchat:s9/resolve", headers=alice)
    _events(app_client, user_event("webchat:s9", "also, where is order 20241105001?", 1700000400.0))
    assert fake.tracker_events()[-1] == {"event": "resume"}
    assert fake.outbound("webchat")[-1] == {
        "recipient_id": "webchat:s9",
        "replay_text": "also, where is order 20241105001?",
    }
    # The connector feeds the replay to Rasa; the broker reports it once more: not stored twice.
    _events(app_client, user_event("webchat:s9", "also, where is order 20241105001?", 1700000401.0))
    with db.connect() as connection:
        count = connection.execute(
            text(
                "SELECT count(*) FROM messages WHERE conversation_id = 'webchat:s9' "
                "AND role = 'customer'"
            )
        ).scalar_one()
        ratings = connection.execute(text("SELECT count(*) FROM csat_ratings")).scalar_one()
    assert count == 2  # "human please" from the transcript, and the question
    assert ratings == 0


def test_event_ingest_is_idempotent_and_keeps_intents(
    app_client: TestClient, admin_headers: dict[str, str], db: Engine
) -> None:
    batch = [
        user_event("telegram:70", "退款", 1700000500.0, intent="request_refund", confidence=0.61),
        bot_event("telegram:70", "请提供订单号", 1700000500.5),
        {
            "sender_id": "telegram:70",
            "event": "slot",
            "timestamp": 1700000500.6,
            "name": "order_id",
            "value": "20241101004",
        },
        {
            "sender_id": "telegram:70",
            "event": "action",
            "timestamp": 1700000500.7,
            "name": "action_listen",
        },
    ]
    _events(app_client, *batch)
    _events(app_client, *batch)  # the broker retried
    # An event without a sender is refused alone (a dead letter); the rest is stored.
    mixed = [{"event": "user", "text": "no sender"}, *batch]
    refused = app_client.post(
        "/api/internal/events", headers=service_headers(), json={"events": mixed}
    )
    assert refused.status_code == 422
    assert refused.json()["refused"] == [
        {"index": 0, "reason": "sender_id is missing or not a string"}
    ]
    with db.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT role, text, intent, confidence, intent_2 FROM messages "
                "WHERE conversation_id = 'telegram:70' ORDER BY id"
            )
        ).all()
        status = connection.execute(
            text("SELECT status FROM conversations WHERE id = 'telegram:70'")
        ).scalar_one()
    assert [tuple(row) for row in rows] == [
        ("customer", "退款", "request_refund", 0.61, "affirm"),
        ("bot", "请提供订单号", None, None, None),
    ]
    assert status == "bot"
    # Bot conversations are not in the inbox.
    listed = app_client.get("/api/conversations?status=all", headers=admin_headers).json()
    assert listed["conversations"] == []


def test_unknown_pause_event_creates_a_pending_conversation(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    _events(
        app_client,
        user_event("telegram:80", "I will sue you", 1700000600.0),
        {
            "sender_id": "telegram:80",
            "event": "slot",
            "timestamp": 1700000600.1,
            "name": "handoff_reason",
            "value": "sensitive_topic",
        },
        {"sender_id": "telegram:80", "event": "pause", "timestamp": 1700000600.2},
    )
    detail = _detail(app_client, admin_headers, "telegram:80")
    assert detail["status"] == "pending"
    assert detail["reason"] == "sensitive_topic" and detail["urgent"] is True
    # The action's own hand-off arriving later fills in the context, no second episode.
    _hand_off(app_client, "telegram:80", reason="sensitive_topic", summary="threatens to sue")
    detail = _detail(app_client, admin_headers, "telegram:80")
    assert detail["summary"] == "threatens to sue"
    assert sum(1 for m in detail["messages"] if m["role"] == "activity") == 1


def test_customer_text_is_returned_as_data(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _hand_off(app_client, "webchat:xss", summary=evil)
    _events(app_client, user_event("webchat:xss", evil, 1700000700.0))
    response = app_client.get("/api/conversations/webchat:xss", headers=admin_headers)
    assert response.headers["content-type"].startswith("application/json")
    customer = [m["text"] for m in response.json()["messages"] if m["role"] == "customer"]
    assert evil in customer
    assert response.json()["summary"] == evil
    # No server-rendered page ever contains customer text.
    login = app_client.get("/login")
    assert "<script>alert" not in login.text
    assert "script-src 'self'" in login.headers["content-security-policy"]


def test_flag_a_bot_turn(app_client: TestClient, make_agent: MakeAgent, db: Engine) -> None:
    alice = make_agent("alice")
    _events(
        app_client,
        user_event("telegram:90", "money back pls", 1700000800.0, intent="greet", confidence=0.3),
        bot_event("telegram:90", "Hello!", 1700000801.0),
    )
    with db.connect() as connection:
        bot_id = connection.execute(
            text("SELECT id FROM messages WHERE role = 'bot' AND conversation_id = 'telegram:90'")
        ).scalar_one()
    flagged = app_client.post(
        f"/api/messages/{bot_id}/flag", headers=alice, json={"intent": "request_refund"}
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["flag"]["text"] == "money back pls"
    assert flagged.json()["flag"]["intent"] == "request_refund"
    unknown = app_client.post(
        f"/api/messages/{bot_id}/flag", headers=alice, json={"intent": "not_an_intent"}
    )
    assert unknown.status_code == 409
    intents = app_client.get("/api/intents", headers=alice).json()["intents"]
    assert "request_refund" in intents and "greet" in intents


def test_canned_responses(
    app_client: TestClient, admin_headers: dict[str, str], make_agent: MakeAgent
) -> None:
    created = app_client.post(
        "/api/canned-responses",
        headers=admin_headers,
        json={"shortcut": "wait", "text": "One moment please.", "language": "en"},
    )
    assert created.status_code == 201
    alice = make_agent("alice")
    listed = app_client.get("/api/canned-responses", headers=alice).json()
    assert listed == {
        "canned_responses": [
            {
                "id": created.json()["canned_response"]["id"],
                "shortcut": "wait",
                "text": "One moment please.",
                "language": "en",
            }
        ]
    }


def test_context_panel_shows_the_order_and_its_shipping(
    make_settings: Callable[..., object],
) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from handoff.api.app import create_app
    from tests.handoff.helpers import ADMIN, bearer
    from tests.support.servers import serve_in_thread

    seen: list[str | None] = []

    async def order(request: Request) -> JSONResponse:
        seen.append(request.headers.get("authorization"))
        if request.path_params["order_id"] != "20241105001":
            return JSONResponse({"error": "not_found"}, 404)
        return JSONResponse(
            {
                "order_id": "20241105001",
                "status": "shipped",
                "shipping": {"carrier": "SF", "tracking_no": "SF123", "events": []},
            }
        )

    shop = Starlette(routes=[Route("/orders/{order_id}", order)])
    with serve_in_thread(shop, what="shop") as shop_url:
        settings = make_settings(shop_api_url=shop_url, shop_api_token="shop-token")
        with TestClient(create_app(settings)) as client:  # type: ignore[arg-type]
            _hand_off(client, "telegram:700")
            headers = bearer(client, *ADMIN)
            context = _detail(client, headers, "telegram:700")["context"]
    assert context["order"]["status"] == "shipped"
    assert context["shipping"] == {"carrier": "SF", "tracking_no": "SF123", "events": []}
    assert seen == ["Bearer shop-token"]


def test_an_angry_customer_jumps_the_queue(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    _hand_off(app_client, "telegram:30", anger_score=0.2)
    _hand_off(app_client, "telegram:31", anger_score=0.93)
    for bad in (1.5, -0.1, "very"):
        refused = app_client.post(
            "/api/internal/handoffs",
            headers=service_headers(),
            json=handoff_body("telegram:32", anger_score=bad),
        )
        assert refused.status_code == 422
    listed = app_client.get("/api/conversations?status=pending", headers=admin_headers).json()
    rows = {c["id"]: c for c in listed["conversations"]}
    assert rows["telegram:31"]["urgent"] is True and rows["telegram:30"]["urgent"] is False
    assert [c["id"] for c in listed["conversations"]][:2] == ["telegram:31", "telegram:30"]
