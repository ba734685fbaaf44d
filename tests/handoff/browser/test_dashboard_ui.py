"""The dashboard in a real browser: seeded metrics, charts drawn, screenshot saved."""

from __future__ import annotations

import pytest

from handoff.api.app import create_app
from handoff.services.metrics import TABLES
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, service_headers, serving, user_event
from tests.handoff.test_metrics import Clock, _local, clock, seeded  # noqa: F401  (fixtures)
from tests.support.browser import ARTIFACTS, chromium


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_dashboard_draws_the_charts(settings: Settings, seeded: Clock) -> None:  # noqa: F811
    with serving(create_app(settings)) as host, chromium() as browser:
        page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1400})
        login = page.request.post(
            f"http://{host}/api/auth/login",
            data={"username": ADMIN[0], "password": ADMIN[1]},
        )
        assert login.ok, login.text()
        page.goto(f"http://{host}/dashboard/?from=2026-03-01&to=2026-03-02")
        page.wait_for_selector("body[data-state=ready]", timeout=30000)
        card = page.locator("[data-metric=conversations] b")
        assert card.text_content() == "4"
        assert page.locator("[data-metric=after_sales_cases] b").text_content() == "2"
        for canvas in (
            "chart-hours",
            "chart-reasons",
            "chart-intents",
            "chart-csat",
            "chart-trend",
            "chart-cases",
            "chart-complaints",
        ):
            drawn = page.evaluate(
                """(id) => {
                  const c = document.getElementById(id);
                  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0;
                  for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
                  return n;
                }""",
                canvas,
            )
            assert drawn > 500, f"{canvas} is empty"
        links = page.locator("#tables a[href*='format=csv']")
        assert links.count() == len(TABLES)  # one per table, with the page's filters
        assert "from=2026-03-01" in (links.first.get_attribute("href") or "")
        page.wait_for_selector("#live span")
        assert "wechat:o3" in (page.locator("#alerts").text_content() or "")
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_the_inbox_shows_the_alerts(settings: Settings, seeded: Clock) -> None:  # noqa: F811
    with serving(create_app(settings)) as host, chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
        login = page.request.post(
            f"http://{host}/api/auth/login",
            data={"username": ADMIN[0], "password": ADMIN[1]},
        )
        assert login.ok, login.text()
        # Day 2: 20 messages the bot fell back on (the week before: 1 of 6).
        now = _local(2, 9, 40)
        for n in range(20):
            seeded.at(now + n)
            event = user_event("telegram:9", f"??? {n}", now + n, intent="nlu_fallback")
            posted = page.request.post(
                f"http://{host}/api/internal/events",
                headers=service_headers(),
                data={"events": [event]},
            )
            assert posted.ok, posted.text()
        seeded.at(now + 60)
        page.goto(f"http://{host}/inbox/")
        page.wait_for_selector("body[data-state=ready]", timeout=30000)
        strip = page.locator("#alert-strip")
        strip.locator("li").first.wait_for(timeout=10000)
        assert strip.is_visible()
        assert strip.locator("li").all_text_contents() == [
            "wechat:o3 已等待人工 41 分钟",  # since 09:00:02 local
            "今天机器人听不懂的情况明显增多：兜底率 83.3%（平时 16.7%）",
        ]
        strip.locator("button").click()
        page.wait_for_selector("#conv-body:not([hidden])")
        assert "wechat:o3" in (page.locator("#conv-title").text_content() or "")
        page.screenshot(path=str(ARTIFACTS / "inbox-alerts.png"))
