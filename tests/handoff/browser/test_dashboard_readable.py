"""The dashboard as a manager reads it, in Chinese and English, at 1280 px and 390 px.

No API slug or raw key shows anywhere on the page; a missed target is marked in
words; changing a target in the page judges the card again. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine, insert

from handoff.api.app import create_app
from handoff.db import sync_database_url
from handoff.models import RaisedAlert
from handoff.services.metrics import TABLES
from handoff.services.metrics.targets import TARGETS
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, serving
from tests.handoff.test_metrics import Clock, clock  # noqa: F401  (fixture)
from tests.handoff.test_metrics_kpis import kpi_seeded  # noqa: F401  (fixture)
from tests.support.browser import ARTIFACTS, chromium

RANGE = "from=2026-03-01&to=2026-03-02"
# What the page may show that is not a word of ours: conversation ids, the agent's
# name, and the customers' own text.
SHOWN_AS_GIVEN = re.compile(
    r"\b(?:telegram|wechat|webchat|rest):[a-z0-9]+\b|\balice\b"
    r"|do you sell gift cards\?|\bqqq\b|far too slow"
)
# Raw keys: snake_case or kebab-case words (less the hyphenated words of English prose).
RAW_KEY = re.compile(r"\b[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+\b")
PROSE = {"hand-off", "hand-offs", "after-sales"}


def _visible_text(page: Page) -> str:
    text = page.evaluate("() => document.body.innerText")
    return SHOWN_AS_GIVEN.sub(" ", text)


def _slugs(page: Page) -> set[str]:
    """Every code and key the API answered with for this page."""
    found: set[str] = set(TABLES) | set(TARGETS)
    summary = page.request.get(f"/api/metrics/summary?{RANGE}").json()
    found |= set(summary)
    for name in TABLES:
        for row in page.request.get(f"/api/metrics/{name}?{RANGE}").json()["rows"]:
            found |= set(row)
            for key in ("intent", "reason", "channel", "case_type"):
                if isinstance(row.get(key), str):
                    found.add(row[key])
    return found


def _open(page: Page, host: str, lang: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.add_init_script(f"localStorage.setItem('inbox:lang', '{lang}')")
    page.goto(f"http://{host}/dashboard/?{RANGE}")
    page.wait_for_selector("body[data-state=ready]", timeout=30000)


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_no_slug_in_either_language_and_targets_judge_the_cards(
    settings: Settings,
    kpi_seeded: Clock,  # noqa: F811
) -> None:
    with serving(create_app(settings)) as host, chromium() as browser:
        context = browser.new_context(base_url=f"http://{host}")
        login = context.request.post(
            "/api/auth/login", data={"username": ADMIN[0], "password": ADMIN[1]}
        )
        assert login.ok, login.text()
        page = context.new_page()
        # A standing target alert, as the sweep keeps it (test_metrics_target_alerts.py).
        engine = create_engine(sync_database_url(settings.database))
        with engine.begin() as connection:
            connection.execute(
                insert(RaisedAlert).values(
                    kind="target_missed",
                    subject="complaint_rate",
                    details={
                        "kind": "target_missed",
                        "target": "complaint_rate",
                        "name": "Complaint rate",
                        "value": 1.0,
                        "goal": 0.015,
                        "unit": "rate",
                        "direction": "max",
                        "hours": 1.0,
                    },
                    raised_at=datetime.now(UTC),
                )
            )
        engine.dispose()
        slugs = _slugs(page)
        assert {"complaint_rate", "handoff-reasons", "track_shipment", "explicit_request"} <= slugs
        for lang in ("zh", "en"):
            for width in (1280, 390):
                _open(page, host, lang, width)
                text = _visible_text(page)
                words = set(re.findall(r"\b[a-z][a-z0-9_-]*\b", text))
                if lang == "zh":
                    # Not one lowercase Latin word: every code has a Chinese name.
                    assert words == set(), words
                else:
                    assert set(RAW_KEY.findall(text)) <= PROSE, RAW_KEY.findall(text)
                    raw = {s for s in slugs if "_" in s or "-" in s}
                    assert not {w for w in words if w in raw}
                card = page.locator("[data-metric=complaint_rate]")
                assert card.get_attribute("data-met") == "false"
                verdict = card.locator(".verdict").text_content()
                assert verdict == ("✗ 未达标" if lang == "zh" else "✗ Target missed")
                assert card.locator(".value").text_content() == "25.0%"
                handling = page.locator("[data-metric=average_handling_s] .value").text_content()
                assert handling == ("3 分 20 秒" if lang == "zh" else "3 min 20 s")
                human = page.locator("[data-metric=human_first_response_s]")
                assert human.locator(".value").text_content() == (
                    "30 秒" if lang == "zh" else "30 s"
                )
                assert human.get_attribute("data-met") == "true"
                drill = page.locator("[data-table=complaint-conversations] a[href^='/inbox/#/c/']")
                assert drill.count() == 2
                empty = page.locator("[data-table=after-sales-cases] .empty").text_content()
                assert empty == (
                    "本期机器人没有创建售后工单。"
                    if lang == "zh"
                    else "The bot opened no after-sales case in this period."
                )
                alert = page.locator("#alerts li[data-kind=target_missed]")
                alert.wait_for(timeout=10000)
                assert alert.text_content() == (
                    "投诉率近 1 小时未达标：100.0%（目标 ≤ 1.5%）"
                    if lang == "zh"
                    else "Complaint rate missed its target over the last 1 h:"
                    " 100.0% (target ≤ 1.5%)"
                )
                page.screenshot(
                    path=str(ARTIFACTS / f"dashboard-{lang}-{width}.png"), full_page=True
                )
        # English, 1280 px: loosen the complaint target in the page.
        _open(page, host, "en", 1280)
        page.locator("#targets summary").click()
        page.locator("#targets input[name=complaint_rate]").fill("30")
        page.locator("#targets .save").click()
        page.wait_for_selector("[data-metric=complaint_rate][data-met=true]", timeout=10000)
        card = page.locator("[data-metric=complaint_rate]")
        assert card.locator(".verdict").text_content() == "✓ Target met"
        assert card.locator(".goal").text_content() == "target ≤ 30.0%"
        assert page.request.get("/api/metrics/targets").json()["targets"]["complaint_rate"] == 0.3
