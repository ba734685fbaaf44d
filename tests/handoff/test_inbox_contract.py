"""What the inbox UI relies on beyond the design's shapes (see the UI's needs list):
activity codes, flags on messages, unread reset, holders-only replies, agents' load."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import bot_event, handoff_body, service_headers, user_event

MakeAgent = Callable[..., dict[str, str]]


def _hand_off(client: TestClient, cid: str, **extra: object) -> None:
    response = client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid, **extra)
    )
    assert response.status_code == 201, response.text


def _events(client: TestClient, *events: dict[str, object]) -> None:
    response = client.post(
        "/api/internal/events", headers=service_headers(), json={"events": list(events)}
    )
    assert response.status_code == 202, response.text


def _messages(client: TestClient, headers: dict[str, str], cid: str) -> list[dict[str, object]]:
    response = client.get(f"/api/conversations/{cid}", headers=headers)
    assert response.status_code == 200, response.text
    messages: list[dict[str, object]] = response.json()["messages"]
    return messages


def test_activity_lines_carry_a_kind_and_params(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    alice = make_agent("alice")
    make_agent("bob")
    _hand_off(app_client, "telegram:70", reason="complaint")
    assert app_client.post("/api/conversations/telegram:70/assign", headers=alice).is_success
    moved = app_client.post(
        "/api/conversations/telegram:70/assign", headers=alice, json={"agent": "bob"}
    )
    assert moved.is_success
    activity = [
        (m["activity"], m["text"])
        for m in _messages(app_client, alice, "telegram:70")
        if m["role"] == "activity"
    ]
    assert activity == [
        ({"kind": "handed_off", "reason": "complaint"}, "Handed off by the bot: complaint"),
        ({"kind": "claimed", "agent": "alice"}, "Claimed by alice"),
        (
            {"kind": "transferred_to_agent", "agent": "bob", "by": "alice"},
            "Transferred to bob by alice",
        ),
    ]


def test_a_flagged_bot_turn_stays_flagged(app_client: TestClient, make_agent: MakeAgent) -> None:
    alice = make_agent("alice")
    _events(
        app_client,
        user_event("telegram:71", "money back", 1700000800.0, intent="greet", confidence=0.3),
        bot_event("telegram:71", "Hello!", 1700000801.0),
    )
    _hand_off(app_client, "telegram:71")
    bot = next(m for m in _messages(app_client, alice, "telegram:71") if m["text"] == "Hello!")
    assert bot["flag"] is None
    flagged = app_client.post(
        f"/api/messages/{bot['id']}/flag", headers=alice, json={"intent": "request_refund"}
    )
    assert flagged.status_code == 201, flagged.text
    again = next(m for m in _messages(app_client, alice, "telegram:71") if m["id"] == bot["id"])
    assert again["flag"] == {"intent": "request_refund", "status": "open"}
    assert str(again["created_at"]).endswith("+00:00")  # ISO 8601 with its offset


def test_only_the_holder_replies_others_may_note(
    app_client: TestClient, make_agent: MakeAgent, fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    alice = make_agent("alice")
    bob = make_agent("bob")
    _hand_off(app_client, "telegram:72")
    assert app_client.post("/api/conversations/telegram:72/assign", headers=alice).is_success
    reply = app_client.post(
        "/api/conversations/telegram:72/messages",
        headers=bob,
        json={"text": "I will take this", "private": False},
    )
    assert reply.status_code == 409
    assert fake.outbound() == []
    note = app_client.post(
        "/api/conversations/telegram:72/messages",
        headers=bob,
        json={"text": "I know this customer", "private": True},
    )
    assert note.status_code == 201


def test_unread_resets_when_the_holder_or_the_queue_looks(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    alice = make_agent("alice")
    bob = make_agent("bob")
    _hand_off(app_client, "telegram:73")
    _events(app_client, user_event("telegram:73", "hello?", 1700000900.0))

    def unread() -> int:
        listed = app_client.get("/api/conversations?status=all", headers=alice).json()
        return int(next(c["unread"] for c in listed["conversations"] if c["id"] == "telegram:73"))

    assert unread() == 1
    assert app_client.get("/api/conversations/telegram:73", headers=bob).json()["unread"] == 0
    assert unread() == 0  # nobody held it: whoever looked has seen it
    assert app_client.post("/api/conversations/telegram:73/assign", headers=alice).is_success
    _events(app_client, user_event("telegram:73", "still there?", 1700000901.0))
    app_client.get("/api/conversations/telegram:73", headers=bob)
    assert unread() == 1  # alice holds it: bob looking does not count
    app_client.get("/api/conversations/telegram:73", headers=alice)
    assert unread() == 0


def test_agents_list_their_load(app_client: TestClient, make_agent: MakeAgent) -> None:
    alice = make_agent("alice")
    make_agent("bob")
    _hand_off(app_client, "telegram:74")
    assert app_client.post("/api/conversations/telegram:74/assign", headers=alice).is_success
    agents = app_client.get("/api/agents", headers=alice).json()["agents"]
    load = {a["username"]: a["load"] for a in agents}
    assert load["alice"] == 1 and load["bob"] == 0


def test_the_list_pages_in_queue_order(app_client: TestClient, make_agent: MakeAgent) -> None:
    alice = make_agent("alice")
    for n in range(5):
        _hand_off(app_client, f"telegram:8{n}")
    _hand_off(app_client, "telegram:89", reason="complaint")  # urgent: first

    def page(**params: object) -> dict[str, object]:
        response = app_client.get(
            "/api/conversations", params={"status": "pending", **params}, headers=alice
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    whole = page()
    order = [c["id"] for c in whole["conversations"]]  # type: ignore[attr-defined]
    assert order == ["telegram:89"] + [f"telegram:8{n}" for n in range(5)]
    assert whole["has_more"] is False
    seen: list[str] = []
    for offset in (0, 2, 4):
        part = page(limit=2, offset=offset)
        seen += [c["id"] for c in part["conversations"]]  # type: ignore[attr-defined]
        assert part["has_more"] is (offset < 4)
        assert part["counts"] == whole["counts"]
    assert seen == order
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert (
            app_client.get(
                "/api/conversations", params={"status": "pending", **bad}, headers=alice
            ).status_code
            == 400
        )


def test_the_last_message_is_the_newest_public_turn(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    alice = make_agent("alice")
    _hand_off(app_client, "telegram:90")
    _events(app_client, user_event("telegram:90", "first", 1700001200.0))
    assert app_client.post("/api/conversations/telegram:90/assign", headers=alice).is_success
    note = app_client.post(
        "/api/conversations/telegram:90/messages",
        headers=alice,
        json={"text": "a note", "private": True},
    )
    assert note.status_code == 201
    listed = app_client.get("/api/conversations?status=open", headers=alice).json()
    row = next(c for c in listed["conversations"] if c["id"] == "telegram:90")
    assert row["last_message"]["text"] == "first"  # not the note, not "Claimed by alice"
    assert row["last_message"]["role"] == "customer"
    assert row["assignee"] == "alice" and row["status"] == "open"
