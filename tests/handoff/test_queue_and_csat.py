"""Pure helpers: business hours, team mapping, agent choice, rating parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.models import Agent
from handoff.services import assignment
from handoff.services import csat_wording as csat
from handoff.services.wait_estimate import business_hours_state
from handoff.settings import load_settings


def _settings(tmp_path: Path, hours: str) -> object:
    return load_settings(
        _env_file=None,
        bot_var_dir=tmp_path,
        handoff_business_hours=hours,
        handoff_timezone="Asia/Shanghai",
    )


def test_business_hours_in_the_configured_time_zone(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "09:00-21:00")
    # 02:00 UTC is 10:00 in Shanghai: open.
    assert business_hours_state(settings, datetime(2024, 11, 5, 2, 0, tzinfo=UTC)) == (
        True,
        None,
    )  # type: ignore[arg-type]
    # 14:00 UTC is 22:00 in Shanghai: closed until 09:00 the next day.
    is_open, next_open = business_hours_state(settings, datetime(2024, 11, 5, 14, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert not is_open and next_open == "2024-11-06T09:00:00+08:00"
    # 00:30 UTC is 08:30 in Shanghai: opens the same day.
    assert (
        business_hours_state(settings, datetime(2024, 11, 5, 0, 30, tzinfo=UTC))[1]
        == "2024-11-05T09:00:00+08:00"
    )  # type: ignore[arg-type]


def test_overnight_hours(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "20:00-04:00")
    assert business_hours_state(settings, datetime(2024, 11, 5, 17, 0, tzinfo=UTC))[0] is True  # type: ignore[arg-type]  # 01:00 local


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


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        (" 1 ", 1),
        ("４", 4),
        ("★★★", 3),
        ("★★★★★", 5),
        ("3分", 3),
        ("4 stars", 4),
        ("0", None),
        ("6", None),
        ("45", None),
        ("where is my order", None),
        ("", None),
        ("★★★★★★", None),
    ],
)
def test_parse_rating(text: str, rating: int | None) -> None:
    assert csat.parse_rating(text) == rating


def test_csat_texts_follow_the_language() -> None:
    assert "rate" in csat.text("prompt", "en")
    assert "评分" in csat.text("prompt", "zh-Hans") or "打分" in csat.text("prompt", "zh-Hans")
    assert "評分" in csat.text("prompt", "zh-Hant")
    assert csat.text("thanks", None) == csat.text("thanks", "zh-Hans")
