"""Who may move a held conversation, and that conversations go only to who can reply."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.handoff.helpers import handoff_body, service_headers

CID = "telegram:900"


def _held_by(client: TestClient, headers: dict[str, str], cid: str = CID) -> None:
    created = client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body(cid)
    )
    assert created.status_code == 201, created.text
    claimed = client.post(f"/api/conversations/{cid}/assign", headers=headers)
    assert claimed.status_code == 200, claimed.text


def _assignee(client: TestClient, headers: dict[str, str], cid: str = CID) -> str | None:
    body = client.get(f"/api/conversations/{cid}", headers=headers).json()
    return body.get("assignee")


def test_another_agent_cannot_take_move_or_close_a_held_conversation(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    alice = make_agent("alice", skills=["billing"])
    bob = make_agent("bob", skills=["billing"])
    make_agent("carol")
    _held_by(app_client, bob)
    url = f"/api/conversations/{CID}"
    # The two-step take-over of the issue: a team move, then a claim.
    assert (
        app_client.post(f"{url}/assign", headers=alice, json={"team": "billing"}).status_code == 403
    )
    assert app_client.post(f"{url}/assign", headers=alice).status_code == 409
    assert (
        app_client.post(f"{url}/assign", headers=alice, json={"agent": "carol"}).status_code == 403
    )
    assert (
        app_client.post(f"{url}/assign", headers=alice, json={"agent": "alice"}).status_code == 409
    )
    assert app_client.post(f"{url}/handback", headers=alice).status_code == 403
    assert app_client.post(f"{url}/resolve", headers=alice).status_code == 403
    assert _assignee(app_client, bob) == "bob"


def test_the_holder_and_admins_may_move_it(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    alice = make_agent("alice")
    bob = make_agent("bob")
    _held_by(app_client, bob)
    url = f"/api/conversations/{CID}"
    moved = app_client.post(f"{url}/assign", headers=bob, json={"agent": "alice"})
    assert moved.status_code == 200, moved.text
    assert _assignee(app_client, alice) == "alice"
    back = app_client.post(f"{url}/assign", headers=admin_headers, json={"agent": "bob"})
    assert back.status_code == 200
    assert app_client.post(f"{url}/resolve", headers=admin_headers).status_code == 200


def test_a_waiting_conversation_may_be_routed_by_any_agent(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    alice = make_agent("alice")
    app_client.post("/api/internal/handoffs", headers=service_headers(), json=handoff_body(CID))
    routed = app_client.post(
        f"/api/conversations/{CID}/assign", headers=alice, json={"team": "logistics"}
    )
    assert routed.status_code == 200, routed.text


def test_no_conversation_goes_to_an_account_that_cannot_reply(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    bob = make_agent("bob")
    make_agent("tess", role="trainer")
    make_agent("dora")
    assert (
        app_client.patch(
            "/api/agents/dora", headers=admin_headers, json={"active": False}
        ).status_code
        == 200
    )
    _held_by(app_client, bob)
    url = f"/api/conversations/{CID}/assign"
    for target, code in (("tess", 409), ("dora", 409), ("nobody", 404)):
        answer = app_client.post(url, headers=bob, json={"agent": target})
        assert answer.status_code == code, (target, answer.text)
        answer = app_client.post(url, headers=admin_headers, json={"agent": target})
        assert answer.status_code == code, (target, answer.text)
    assert _assignee(app_client, bob) == "bob"


def test_disabled_agents_get_no_conversations_automatically(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
    db: Engine,
) -> None:
    make_agent("dora", skills=["logistics", "billing", "after_sales", "complaints"], online=True)
    off = app_client.patch("/api/agents/dora", headers=admin_headers, json={"active": False})
    assert off.status_code == 200
    # Even if something marked her online again, the auto-assigner skips her.
    with db.begin() as connection:
        connection.execute(text("UPDATE agents SET online = true WHERE username = 'dora'"))
    app_client.post("/api/internal/handoffs", headers=service_headers(), json=handoff_body(CID))
    assert _assignee(app_client, admin_headers) is None


def test_disabling_or_making_a_trainer_puts_held_conversations_back_in_the_queue(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    bob = make_agent("bob")
    dora = make_agent("dora")
    _held_by(app_client, bob, "telegram:901")
    _held_by(app_client, dora, "telegram:902")
    off = app_client.patch("/api/agents/bob", headers=admin_headers, json={"active": False})
    assert off.status_code == 200
    trainer = app_client.patch("/api/agents/dora", headers=admin_headers, json={"role": "trainer"})
    assert trainer.status_code == 200
    for cid in ("telegram:901", "telegram:902"):
        body = app_client.get(f"/api/conversations/{cid}", headers=admin_headers).json()
        assert (body["status"], body["assignee"]) == ("pending", None), cid
        kinds = [m["activity"]["kind"] for m in body["messages"] if m.get("activity")]
        assert kinds[-1] == "released"
