"""The trainers' page (``/trainers/``) in a real browser, against the real service.

Debian's Chromium driven by Playwright: a trainer logs in and lands on the
page, sees grouped messages with counts and reasons, filters by reason, opens
a group (customer text that looks like HTML stays text), sees the
conversation around it, marks an ``order_id`` span by selecting it, labels the
whole group, undoes it from the history, ignores another group; the page
switches between Chinese and English. An agent is told the page is not theirs.

Debian's Chromium through ``tests/support/browser.py`` (never ``playwright install``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, SERVICE_TOKEN, serving
from tests.support.browser import ARTIFACTS, chromium

XSS = '<img src=x onerror="window.__pwned=1">订单在哪'
LOW = [("greet", 0.2), ("thank", 0.1)]
TRAINER_UI_PASSWORD = "linen-compass-tide-61"


def _user(cid: str, text: str, ts: float) -> dict[str, Any]:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}] + [
        {"name": name, "confidence": conf} for name, conf in LOW
    ]
    return {
        "sender_id": cid,
        "event": "user",
        "timestamp": ts,
        "text": text,
        "message_id": uuid.uuid4().hex,
        "parse_data": {"text": text, "intent": ranking[0], "intent_ranking": ranking},
        "metadata": {},
    }


def _bot(cid: str, text: str, ts: float) -> dict[str, Any]:
    return {"sender_id": cid, "event": "bot", "timestamp": ts, "text": text, "metadata": {}}


@pytest.fixture
def service(settings: Settings) -> Iterator[str]:
    """The real service under uvicorn, seeded with a queue, a trainer and an agent."""
    with serving(create_app(settings)) as address:
        base = f"http://{address}"
        internal = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
        now = time.time()
        events = [
            _user("telegram:1", "我的订单20241105001到哪了", now),
            _bot("telegram:1", "抱歉，我没听懂", now + 1),
            _user("telegram:2", "我的訂單20241105002到哪了呀", now + 2),
            _user("telegram:3", "我的订单20241105003到哪了", now + 3),
            _user("webchat:x", XSS, now + 4),
            _user("telegram:4", "blah blah nonsense", now + 5),
        ]
        response = httpx.post(
            f"{base}/api/internal/events", headers=internal, json={"events": events}
        )
        assert response.status_code == 202, response.text
        token = httpx.post(
            f"{base}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        for name, role in (("tina", "trainer"), ("alice", "agent"), ("ada", "admin")):
            created = httpx.post(
                f"{base}/api/agents",
                headers=admin,
                json={"username": name, "password": TRAINER_UI_PASSWORD, "role": role},
            )
            assert created.status_code == 201, created.text
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _log_in(browser: Any, base: str, user: str, locale: str = "en-US") -> tuple[Any, list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/trainers/")
    page.wait_for_url(f"{base}/login?next=/trainers/")
    page.locator("#username").fill(user)
    page.locator("#password").fill(TRAINER_UI_PASSWORD)
    page.locator("#login-button").click()
    page.wait_for_url(f"{base}/trainers/")
    return page, errors


def test_a_trainer_labels_a_group_undoes_it_and_ignores_another(service: str, browser: Any) -> None:
    page, errors = _log_in(browser, service, "tina")
    expect(page.locator("#who")).to_contain_text("tina")
    expect(page.locator("#retrain-button")).to_be_hidden()  # admins only
    items = page.locator(".queue-item")
    expect(items).to_have_count(3)
    first = items.first
    expect(first.locator(".queue-text")).to_have_text("我的订单20241105001到哪了")
    expect(first.locator(".badge")).to_have_text("×3")
    expect(first.locator(".queue-meta")).to_contain_text("Not understood")
    expect(page.locator('.chip[data-reason="nlu_fallback"] .count')).to_have_text("3")
    # Customer text that looks like HTML is shown as text.
    xss = page.locator(".queue-text", has_text="<img")
    expect(xss).to_have_text(XSS)
    assert page.evaluate("window.__pwned") is None
    # Filtering by a reason nobody has empties the list.
    page.locator('.chip[data-reason="thumbs_down"]').click()
    expect(page.locator(".queue-list .empty")).to_be_visible()
    page.locator('.chip[data-reason=""]').click()
    expect(items).to_have_count(3)

    first.click()
    expect(page.locator("#item-text")).to_have_text("我的订单20241105001到哪了")
    expect(page.locator("#item-facts")).to_contain_text("greet (20%)")
    expect(page.locator("#conversation .turn")).to_have_count(2)
    expect(page.locator('#conversation .turn[aria-current="true"] .turn-text')).to_have_text(
        "我的订单20241105001到哪了"
    )
    expect(page.locator("#examples li")).to_have_count(3)
    # Select the order number in the text and mark it.
    page.evaluate(
        """() => {
          const node = document.getElementById("item-text").firstChild;
          const range = document.createRange();
          range.setStart(node, 4); range.setEnd(node, 15);
          const selection = window.getSelection();
          selection.removeAllRanges(); selection.addRange(range);
        }"""
    )
    page.locator("#span-button").click()
    expect(page.locator("#span-list code")).to_have_text("20241105001")
    page.locator("#intent-search").fill("track")
    page.locator("#intent-select").select_option("track_shipment")
    expect(page.locator("#label-button")).to_have_text("Label group (3)")
    page.locator("#label-button").click()
    expect(page.locator("#toast")).to_contain_text("Labelled 3 messages as track_shipment")
    expect(items).to_have_count(2)
    entry = page.locator(".history-entry").first
    expect(entry).to_contain_text("labelled track_shipment")
    exported = httpx.get(
        f"{service}/api/annotations/export", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    ).json()["examples"]
    spans = {e["text"]: e["entities"] for e in exported}
    assert spans["我的订单20241105001到哪了"] == [
        {"start": 4, "end": 15, "entity": "order_id", "value": "20241105001"}
    ]
    page.screenshot(path=str(ARTIFACTS / "trainers-labelled.png"))

    entry.get_by_role("button", name="Undo").click()
    expect(page.locator("#toast")).to_contain_text("Undone: 3 messages back")
    expect(items).to_have_count(3)
    expect(page.locator(".history-entry").first).to_contain_text("undone")

    page.locator(".queue-item", has_text="blah blah").click()
    page.locator("#ignore-button").click()
    expect(page.locator("#toast")).to_contain_text("Ignored 1 messages")
    expect(items).to_have_count(2)
    page.locator('[data-status="ignored"]').click()
    expect(items).to_have_count(1)
    expect(items.first.locator(".queue-text")).to_have_text("blah blah nonsense")

    page.locator("#lang-toggle").click()
    expect(page.locator('[data-status="new"]')).to_have_text("待标注")
    expect(page.locator(".brand")).to_have_text("训练师队列")
    page.locator('[data-status="new"]').click()
    expect(items.first.locator(".queue-meta")).to_contain_text("未理解")
    assert errors == []


def test_an_agent_is_told_the_page_needs_a_trainer(service: str, browser: Any) -> None:
    page, errors = _log_in(browser, service, "alice", locale="zh-CN")
    expect(page.locator("#denied")).to_be_visible()
    expect(page.locator("#denied")).to_contain_text("训练师")
    expect(page.locator(".queue-item")).to_have_count(0)
    assert errors == []


def test_an_admin_starts_a_retrain_and_follows_its_stages(service: str, browser: Any) -> None:
    # The Rasa side is the stand-in (tests/handoff/fake_rasa.py): its job moves
    # one stage each time it is read. tests/test_retrain_loop.py runs the real one.
    page, errors = _log_in(browser, service, "ada")
    button = page.locator("#retrain-button")
    panel = page.locator("#retrain-panel")
    expect(button).to_have_text("Retrain the model")
    expect(panel).to_be_hidden()  # never retrained

    button.click()
    expect(panel).to_be_visible()
    expect(panel.locator("li")).to_have_count(5)
    expect(panel.locator('li[aria-current="step"]')).not_to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "trainers-retrain-running.png"))
    expect(panel).to_have_attribute("data-state", "promoted", timeout=30_000)
    expect(page.locator("#retrain-state")).to_have_text("Retrain 1: the new model is served")
    expect(panel.locator("li.done")).to_have_count(5)
    expect(button).to_be_enabled()
    # The log is the command's output, shown as text.
    expect(page.locator("#retrain-log")).to_contain_text("<b>training</b>")
    assert page.locator("#retrain-log b").count() == 0
    page.locator("#lang-toggle").click()
    expect(page.locator("#retrain-state")).to_have_text("第 1 次重新训练：新模型已上线")
    page.screenshot(path=str(ARTIFACTS / "trainers-retrain-promoted.png"))
    assert errors == []
