"""KPI targets, complaint rate and resolution rate on a seeded set, computed by hand.

Range 2026-03-01..02 (Asia/Shanghai); the previous period is 2026-02-27..28.

| session | channel | what happens | complaint | resolved | first contact |
|---|---|---|---|---|---|
| k1a d1 10:00 | telegram | track_shipment, bot | – | no: back 5 h later on track_shipment | no |
| k1b d1 15:00 | telegram | track_shipment, bot | – | yes | yes |
| k2  d1 11:00 | telegram | request_refund, bot; back on day 5 (96 h: outside) | – | yes | yes |
| k3  d1 12:00 | wechat | complain → hand-off complaint, resolved, 20 s, ★5 | yes | yes | yes |
| k4  d2 09:00 | webchat | check_order_status → hand-off, still waiting | – | no | no |
| k5a d2 10:00 | rest | track_shipment, bot; back 2 h later only to thank | – | yes | no |
| k5b d2 12:00 | rest | thank | – | yes | yes |
| k6  d2 13:00 | webchat | request_human → complaint hand-off, 40 s, ★2 + comment | yes | yes | y |
| p1  02-28 10:00 | telegram | track_shipment, bot (previous period) | – | yes | yes |

Out of scope: "do you sell gift cards?" in k1b and k5b; the bot fell back once ("qqq", k5b).
Customer messages with an intent in the range, per session: k1a 1, k1b 2, k2 1, k3 2 (with
the rating), k4 1, k5a 1, k5b 3, k6 3 (with the rating and its comment) = 14.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.handoff.helpers import bot_event, user_event
from tests.handoff.test_metrics import Clock, _events, _hand_off, _local, clock  # noqa: F401

MakeAgent = Callable[..., dict[str, str]]
RANGE = "from=2026-03-01&to=2026-03-02"


def _turn(client: TestClient, clk: Clock, cid: str, text: str, ts: float, intent: str) -> None:
    _events(
        client,
        clk,
        user_event(cid, text, ts, intent=intent, confidence=0.9),
        bot_event(cid, "ok", ts + 0.5),
    )


def _agent_handles(
    client: TestClient, clk: Clock, agent: dict[str, str], cid: str, at: float, answer_s: float
) -> None:
    clk.at(at + 5)
    assert client.post(f"/api/conversations/{cid}/assign", headers=agent).status_code == 200
    clk.at(at + answer_s)
    sent = client.post(f"/api/conversations/{cid}/messages", headers=agent, json={"text": "Sure"})
    assert sent.status_code in (200, 201), sent.text
    clk.at(at + 200)
    assert client.post(f"/api/conversations/{cid}/resolve", headers=agent).status_code == 200


@pytest.fixture
def kpi_seeded(app_client: TestClient, make_agent: MakeAgent, clock: Clock) -> Clock:  # noqa: F811
    alice = make_agent("alice", skills=["complaints", "after_sales"])
    _turn(app_client, clock, "telegram:p1", "where is it", _local(-1, 10, 0), "track_shipment")
    _turn(app_client, clock, "telegram:k1", "where is it", _local(1, 10, 0), "track_shipment")
    _turn(app_client, clock, "telegram:k2", "refund", _local(1, 11, 0), "request_refund")
    k3 = _local(1, 12, 0)
    _turn(app_client, clock, "wechat:k3", "this is bad", k3, "complain")
    _hand_off(app_client, clock, k3 + 1, "wechat:k3", reason="complaint", intent="complain")
    _agent_handles(app_client, clock, alice, "wechat:k3", k3 + 1, 20)
    _events(app_client, clock, user_event("wechat:k3", "5", k3 + 300, intent="inform"))
    _turn(app_client, clock, "telegram:k1", "where is it now", _local(1, 15, 0), "track_shipment")
    gift = "Do you sell gift cards? "
    _turn(app_client, clock, "telegram:k1", gift, _local(1, 15, 1), "out_of_scope")
    k4 = _local(2, 9, 0)
    _turn(app_client, clock, "webchat:k4", "order status", k4, "check_order_status")
    _hand_off(app_client, clock, k4 + 1, "webchat:k4", reason="explicit_request")
    _turn(app_client, clock, "rest:k5", "where is it", _local(2, 10, 0), "track_shipment")
    _turn(app_client, clock, "rest:k5", "thanks", _local(2, 12, 0), "thank")
    _turn(app_client, clock, "rest:k5", "do you sell gift cards?", _local(2, 12, 1), "out_of_scope")
    _turn(app_client, clock, "rest:k5", "qqq", _local(2, 12, 2), "nlu_fallback")
    k6 = _local(2, 13, 0)
    _turn(app_client, clock, "webchat:k6", "a person please", k6, "request_human")
    _hand_off(app_client, clock, k6 + 1, "webchat:k6", reason="complaint")
    _agent_handles(app_client, clock, alice, "webchat:k6", k6 + 1, 40)
    _events(app_client, clock, user_event("webchat:k6", "2", k6 + 300, intent="inform"))
    _events(app_client, clock, user_event("webchat:k6", "far too slow", k6 + 310, intent="inform"))
    _turn(app_client, clock, "telegram:k2", "refund again", _local(5, 11, 0), "request_refund")
    clock.at(_local(5, 12, 0))
    return clock


def _get(client: TestClient, headers: dict[str, str], path: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_complaint_and_resolution_rates(
    app_client: TestClient, admin_headers: dict[str, str], kpi_seeded: Clock
) -> None:
    found = _get(app_client, admin_headers, f"/api/metrics/summary?{RANGE}")
    assert found["conversations"] == 8
    assert found["complaints"] == 2 and found["complaint_rate"] == 0.25
    assert found["resolved_conversations"] == 6 and found["resolution_rate"] == 0.75
    assert found["first_contact_resolution_rate"] == 0.625
    assert found["containment_rate"] == 0.625
    assert found["csat_satisfied_rate"] == 0.5  # ★5 and ★2
    assert found["human_first_response_s_p50"] == 30.0  # 20 s and 40 s
    assert found["out_of_scope_rate"] == round(2 / 14, 4)
    assert found["fallback_rate"] == round(1 / 14, 4)
    webchat = _get(app_client, admin_headers, f"/api/metrics/summary?{RANGE}&channel=webchat")
    assert webchat["complaint_rate"] == 0.5 and webchat["resolution_rate"] == 0.5
    # k2 came back on day 5: that session is outside the range, its start 96 h after k2's.
    later = _get(app_client, admin_headers, "/api/metrics/summary?from=2026-03-05&to=2026-03-05")
    assert later["conversations"] == 1 and later["resolution_rate"] == 1.0


def test_targets_met_missed_and_trend(
    app_client: TestClient, admin_headers: dict[str, str], kpi_seeded: Clock
) -> None:
    found = _get(app_client, admin_headers, f"/api/metrics/summary?{RANGE}")
    assert found["previous_period"] == {"from": "2026-02-27", "to": "2026-02-28"}
    cards = {card["target"]: card for card in found["targets"]}
    assert set(cards) == {
        "bot_first_response_s",
        "human_first_response_s",
        "resolution_rate",
        "first_contact_resolution_rate",
        "csat_satisfied_rate",
        "complaint_rate",
    }
    complaint = cards["complaint_rate"]
    assert (complaint["value"], complaint["goal"], complaint["met"]) == (0.25, 0.015, False)
    assert (complaint["previous"], complaint["change"], complaint["better"]) == (0.0, 0.25, False)
    resolution = cards["resolution_rate"]
    assert (resolution["value"], resolution["goal"], resolution["met"]) == (0.75, 0.9, False)
    assert (resolution["previous"], resolution["change"]) == (1.0, -0.25)
    assert cards["human_first_response_s"]["met"] is True  # 30 s ≤ 30 s
    assert cards["human_first_response_s"]["previous"] is None  # no hand-off before
    assert cards["human_first_response_s"]["change"] is None
    assert cards["bot_first_response_s"]["value"] == 0.5 and cards["bot_first_response_s"]["met"]
    assert cards["csat_satisfied_rate"]["met"] is False
    assert cards["first_contact_resolution_rate"]["met"] is False
    # A looser complaint target: the same figure now meets it.
    put = app_client.put(
        "/api/metrics/targets", headers=admin_headers, json={"complaint_rate": 0.3}
    )
    assert put.status_code == 200, put.text
    again = _get(app_client, admin_headers, f"/api/metrics/summary?{RANGE}")
    card = next(c for c in again["targets"] if c["target"] == "complaint_rate")
    assert card["goal"] == 0.3 and card["met"] is True


def test_complaint_tables(
    app_client: TestClient, admin_headers: dict[str, str], kpi_seeded: Clock
) -> None:
    rows = _get(app_client, admin_headers, f"/api/metrics/complaints?{RANGE}")["rows"]
    cells = {
        (r["day"], r["channel"]): (r["conversations"], r["complaints"], r["rate"]) for r in rows
    }
    assert cells == {
        ("2026-03-01", "rest"): (0, 0, None),
        ("2026-03-01", "telegram"): (3, 0, 0.0),
        ("2026-03-01", "webchat"): (0, 0, None),
        ("2026-03-01", "wechat"): (1, 1, 1.0),
        ("2026-03-02", "rest"): (2, 0, 0.0),
        ("2026-03-02", "telegram"): (0, 0, None),
        ("2026-03-02", "webchat"): (2, 1, 0.5),
        ("2026-03-02", "wechat"): (0, 0, None),
    }
    drill = _get(app_client, admin_headers, f"/api/metrics/complaint-conversations?{RANGE}")
    assert drill["rows"] == [
        {
            "conversation_id": "webchat:k6",
            "channel": "webchat",
            "started_at": "2026-03-02 13:00:00",
            "handed_off": True,
        },
        {
            "conversation_id": "wechat:k3",
            "channel": "wechat",
            "started_at": "2026-03-01 12:00:00",
            "handed_off": True,
        },
    ]


def test_targets_api_admin_only_and_range_checked(
    app_client: TestClient, admin_headers: dict[str, str], make_agent: MakeAgent
) -> None:
    agent = make_agent("bob")
    got = _get(app_client, agent, "/api/metrics/targets")
    assert got["targets"] == {
        "bot_first_response_s": 10.0,
        "human_first_response_s": 30.0,
        "resolution_rate": 0.9,
        "first_contact_resolution_rate": 0.92,
        "csat_satisfied_rate": 0.85,
        "complaint_rate": 0.015,
    }
    assert got["definitions"]["complaint_rate"]["direction"] == "max"
    denied = app_client.put("/api/metrics/targets", headers=agent, json={"complaint_rate": 0.02})
    assert denied.status_code == 403
    for bad in (
        {"complaint_rate": -0.1},
        {"resolution_rate": 1.5},
        {"human_first_response_s": 0},
        {"resolution_rate": 0.95, "complaint_rate": 2},  # one bad value: nothing changes
        {"nope": 1},
        {"complaint_rate": "1%"},
        {"complaint_rate": True},
        [],
        {},
    ):
        response = app_client.put("/api/metrics/targets", headers=admin_headers, json=bad)
        assert response.status_code == 400, (bad, response.text)
    assert _get(app_client, agent, "/api/metrics/targets")["targets"] == got["targets"]
    ok = app_client.put(
        "/api/metrics/targets",
        headers=admin_headers,
        json={"resolution_rate": 0.95, "human_first_response_s": 45},
    )
    assert ok.status_code == 200
    now = _get(app_client, agent, "/api/metrics/targets")["targets"]
    assert now["resolution_rate"] == 0.95 and now["human_first_response_s"] == 45.0
    assert now["complaint_rate"] == 0.015


def test_out_of_scope_wordings_rank_below_fallbacks(
    app_client: TestClient, admin_headers: dict[str, str], kpi_seeded: Clock
) -> None:
    rows = _get(app_client, admin_headers, f"/api/metrics/misunderstood?{RANGE}")["rows"]
    assert [(r["text"], r["messages"], r["out_of_scope"]) for r in rows] == [
        ("qqq", 1, 0),  # a fallback: first, though the out-of-scope wording is more frequent
        ("do you sell gift cards?", 2, 2),
    ]
    outside = _get(app_client, admin_headers, f"/api/metrics/out-of-scope?{RANGE}")["rows"]
    assert outside == [
        {"text": "do you sell gift cards?", "messages": 2, "last_seen": "2026-03-02 12:01:00"}
    ]
    csv = app_client.get(f"/api/metrics/out-of-scope?{RANGE}&format=csv", headers=admin_headers)
    assert csv.status_code == 200
    assert csv.text.lstrip("\ufeff").splitlines() == [
        "text,messages,last_seen",
        "do you sell gift cards?,2,2026-03-02 12:01:00",
    ]
