"""The anger score on a live stack (issue 17, point 4): an angry customer's hand-off is urgent.

Through the REST channel to the real handoff service: every message is scored
into the ``anger_score`` slot, and the hand-off carries the angriest score of
the session, which makes it urgent; a calm customer's hand-off is not.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.handoff_client import HandoffClient

pytestmark = pytest.mark.stack


def _say(stack, sender: str, text: str) -> None:
    answer = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    answer.raise_for_status()


@pytest.mark.parametrize(
    ("first", "urgent"),
    [
        ("气死我了，订单20241020005到底发不发货！你们太过分了", True),
        ("请问订单20241020005到哪了", False),
    ],
)
def test_an_angry_customer_is_handed_off_urgently(stack, first: str, urgent: bool) -> None:
    sender = f"telegram:{uuid.uuid4().int % 10**9}"
    _say(stack, sender, first)
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=10).json()
    score = tracker["slots"]["anger_score"]
    assert (score >= 0.5) is urgent, score
    _say(stack, sender, "转人工")
    inbox = HandoffClient.admin(stack.handoff)
    seen = inbox.wait_for(sender, lambda c: c["status"] in ("pending", "open"), what="the hand-off")
    assert seen["urgent"] is urgent
    assert (seen["context"]["slots"]["anger_score"] < 0.5) is True  # "转人工" itself is calm
