"""What the bot could not help with reaches the trainers and the dashboard.

Gibberish and an off-topic question, sent through Rasa's REST channel on the
real stack, are answered as out of scope; the handoff service queues them for
trainers with reason ``out_of_scope`` and lists them in the dashboard's
misunderstood and out-of-scope tables.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.support.handoff_client import HandoffClient
from tests.support.processes import Stack

# "do you sell gift cards?" (the example) is read as a FAQ (0.68) by the shipped model.
# Wordings no other live test sends: the queue groups equal wordings across conversations.
OUT_OF_SCOPE = ("zxcvb qwert", "咕噜咕噜 叽里呱啦", "who painted the mona lisa")


def _poll(read: Any, what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = read()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_out_of_scope_messages_are_queued_and_counted(stack: Stack) -> None:
    for text in OUT_OF_SCOPE:
        parsed = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": text}, timeout=60)
        assert parsed.json()["intent"]["name"] == "out_of_scope", (text, parsed.json()["intent"])
        said = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": f"rest:{uuid.uuid4().hex[:12]}", "message": text},
            timeout=60,
        )
        said.raise_for_status()
        assert said.json(), f"no answer to {text!r}"
    assert stack.handoff is not None
    admin = HandoffClient.admin(stack.handoff)

    def queued() -> dict[str, Any] | None:
        listed = admin.http.get(
            "/api/annotations", params={"status": "new", "reason": "out_of_scope", "limit": 500}
        )
        listed.raise_for_status()
        found = {item["text"]: item for item in listed.json()["items"]}
        return found if set(OUT_OF_SCOPE) <= set(found) else None

    items = _poll(queued, "the out-of-scope items")
    for text in OUT_OF_SCOPE:
        assert items[text]["reasons"] == {"out_of_scope": 1}, items[text]
        assert items[text]["predicted_intent"] == "out_of_scope"

    def table(name: str) -> dict[str, dict[str, Any]]:
        # Today and yesterday in the shop's time zone cover the messages just sent; the
        # REST channel alone, since the tables keep the top 20 wordings and the other
        # live tests' fallbacks rank above wordings only ever out of scope.
        rows = admin.http.get(f"/api/metrics/{name}", params={"channel": "rest"}).json()["rows"]
        return {row["text"]: row for row in rows}

    misunderstood = _poll(
        lambda: (lambda t: t if set(OUT_OF_SCOPE) <= set(t) else None)(table("misunderstood")),
        "the misunderstood table",
    )
    for text in OUT_OF_SCOPE:
        assert misunderstood[text]["out_of_scope"] == 1
    assert set(OUT_OF_SCOPE) <= set(table("out-of-scope"))
    summary = admin.http.get("/api/metrics/summary").json()
    assert summary["out_of_scope_rate"] is not None and summary["out_of_scope_rate"] > 0
