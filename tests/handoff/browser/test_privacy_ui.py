"""Masking in a real browser: a phone number masked in the inbox, shown after reveal,
and the reveal listed on the admins' access-records page (English and Chinese)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, AGENT_PASSWORD, handoff_body, service_headers, serving
from tests.support.browser import ARTIFACTS, chromium

pytestmark = pytest.mark.timeout(300)
PHONE, MASKED = "13812345678", "138****5678"
CID = "telegram:4242"


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_masked_then_revealed_then_listed_in_the_access_records(settings: Settings) -> None:
    with serving(create_app(settings)) as host, chromium() as browser:
        base = f"http://{host}"
        admin = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
        signed = admin.request.post(
            f"{base}/api/auth/login", data={"username": ADMIN[0], "password": ADMIN[1]}
        )
        assert signed.ok, signed.text()
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
        created = admin.request.post(
            f"{base}/api/agents",
            headers=csrf,
            data={"username": "alice", "password": AGENT_PASSWORD, "role": "agent"},
        )
        assert created.status == 201, created.text()
        body = handoff_body(
            CID,
            transcript=[
                {"role": "customer", "text": f"请打 {PHONE} 找我", "timestamp": 1700000000.0}
            ],
        )
        handed = admin.request.post(
            f"{base}/api/internal/handoffs", headers=service_headers(), data=body
        )
        assert handed.status == 201, handed.text()

        agent = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
        login = agent.request.post(
            f"{base}/api/auth/login", data={"username": "alice", "password": AGENT_PASSWORD}
        )
        assert login.ok, login.text()
        claimed = agent.request.post(
            f"{base}/api/conversations/{CID}/assign",
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert claimed.ok, claimed.text()
        page = agent.new_page()
        page.goto(f"{base}/inbox/#/c/{CID}")
        page.wait_for_selector("body[data-state=ready]", timeout=30000)
        customer = page.locator("#transcript .turn.customer").first
        expect(customer).to_contain_text(f"请打 {MASKED} 找我", timeout=10000)
        assert PHONE not in (page.locator("#conversation").text_content() or "")
        expect(page.locator(".queue-list")).not_to_contain_text(PHONE)
        page.screenshot(path=str(ARTIFACTS / "privacy-masked.png"))

        page.locator("#reveal-button").click()
        expect(customer).to_contain_text(f"请打 {PHONE} 找我", timeout=10000)
        page.screenshot(path=str(ARTIFACTS / "privacy-revealed.png"))

        audit = admin.new_page()
        audit.goto(f"{base}/inbox/audit/")
        row = audit.locator("#records tbody tr[data-action='conversation.reveal']")
        expect(row).to_have_count(1, timeout=10000)
        expect(row).to_contain_text("alice")
        expect(row).to_contain_text(CID)
        expect(row).to_contain_text("Showed personal data")
        audit.locator("#lang").click()
        expect(audit.locator("h1, strong").first).to_have_text("访问记录")
        expect(row).to_contain_text("显示个人信息")
        # The filters: only the reveals.
        audit.select_option("#action-select", "conversation.reveal")
        audit.locator("#filters button[type=submit]").click()
        expect(audit.locator("#records tbody tr")).to_have_count(1)
        audit.screenshot(path=str(ARTIFACTS / "privacy-audit.png"), full_page=True)

        # An agent gets no records from the page.
        denied = agent.new_page()
        denied.goto(f"{base}/inbox/audit/")
        expect(denied.locator("#status")).to_have_text("Only admins may read the access records")
