"""Teams, urgency and the choice of an agent (``handoff/services/assignment.py``)."""

from __future__ import annotations

import pytest

from handoff.models import Agent
from handoff.services import assignment


@pytest.mark.parametrize(
    ("reason", "intent", "team", "urgent"),
    [
        ("complaint", "request_refund", "complaints", True),
        ("sensitive_topic", None, "complaints", True),
        ("explicit_request", "track_shipment", "logistics", False),
        ("explicit_request", "change_address", "logistics", False),
        ("repeated_misunderstanding", "faq/invoice", "billing", False),
        ("form_failed", "check_refund_progress", "billing", False),
        ("shop_unavailable", "order_status", "after_sales", False),
    ],
)
def test_team_mapping(reason: str, intent: str | None, team: str, urgent: bool) -> None:
    assert assignment.team_for(reason, intent) == team
    assert assignment.is_urgent(reason) is urgent


def test_pick_agent_least_loaded_with_skill_and_capacity() -> None:
    a = Agent(id=1, username="a", skills=["billing"], capacity=2)
    b = Agent(id=2, username="b", skills=["billing"], capacity=4)
    c = Agent(id=3, username="c", skills=["logistics"], capacity=9)
    assert assignment.pick_agent("billing", [a, b, c], {1: 1, 2: 1}) is b  # 1/4 < 1/2
    assert assignment.pick_agent("billing", [a, b, c], {1: 2, 2: 4}) is None  # all full
    assert assignment.pick_agent("complaints", [a, b, c], {}) is None
