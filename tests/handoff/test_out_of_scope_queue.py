"""Out-of-scope answers reach the trainers' queue with their own reason, ranked below
fallbacks; the NLU's ranking decides (``handoff.services.annotations.reasons``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from handoff.services.annotations.reasons import Reason, read_ranking
from tests.handoff.helpers import service_headers, user_event

MakeAgent = Callable[..., dict[str, str]]


def test_a_confident_out_of_scope_is_its_own_reason() -> None:
    ranking = [{"name": "out_of_scope", "confidence": 0.96}, {"name": "greet", "confidence": 0.02}]
    prediction, reasons = read_ranking(ranking)
    assert reasons == [Reason.OUT_OF_SCOPE] and prediction.intent == "out_of_scope"
    # Below the fallback threshold it is a fallback, not out of scope.
    fell_back = [{"name": "nlu_fallback", "confidence": 0.7}, *ranking[:1]]
    fell_back[1] = {"name": "out_of_scope", "confidence": 0.4}
    assert read_ranking(fell_back)[1] == [Reason.NLU_FALLBACK]
    assert read_ranking([{"name": "greet", "confidence": 0.99}])[1] == []


def test_out_of_scope_groups_rank_below_fallbacks(
    app_client: TestClient, make_agent: MakeAgent
) -> None:
    trainer = make_agent("tina", role="trainer")
    now = time.time()
    events = [
        user_event(
            f"rest:o{n}", "do you sell gift cards?", now + n, intent="out_of_scope", confidence=0.9
        )
        for n in range(3)
    ]
    events.append(user_event("rest:f1", "blorp", now + 5, intent="nlu_fallback", confidence=0.3))
    posted = app_client.post(
        "/api/internal/events", headers=service_headers(), json={"events": events}
    )
    assert posted.status_code == 202, posted.text
    listed = app_client.get("/api/annotations?status=new", headers=trainer).json()
    assert [(i["text"], i["count"], i["reason"]) for i in listed["items"]] == [
        ("blorp", 1, "nlu_fallback"),
        ("do you sell gift cards?", 3, "out_of_scope"),
    ]
    assert listed["counts"]["out_of_scope"] == 1 and listed["counts"]["nlu_fallback"] == 1
    only = app_client.get("/api/annotations?status=new&reason=out_of_scope", headers=trainer)
    assert [i["text"] for i in only.json()["items"]] == ["do you sell gift cards?"]
