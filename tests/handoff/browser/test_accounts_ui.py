"""The admins' agents-and-teams page and the login page's one-time code, in Chromium."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from handoff.api.app import create_app
from handoff.services import second_factor
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, AGENT_PASSWORD, serving
from tests.support.browser import ARTIFACTS, chromium

pytestmark = pytest.mark.timeout(300)
NEW_PASSWORD = "amber-willow-canal-93"
NOW = (int(time.time()) // 30) * 30 + 15.0


def _sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#login-button").click()


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_admins_manage_agents_and_teams_in_both_languages(settings: Settings) -> None:
    with serving(create_app(settings)) as host, chromium() as browser:
        base = f"http://{host}"
        context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
        page = context.new_page()
        _sign_in(page, base, *ADMIN)
        page.wait_for_url(f"{base}/inbox/")
        expect(page.locator("#accounts-link")).to_be_visible(timeout=30_000)
        page.locator("#accounts-link").click()
        page.wait_for_url(f"{base}/inbox/accounts/")
        expect(page.locator("h1, strong").first).to_have_text("Agents and teams")
        expect(page.locator("#agents tbody tr")).to_have_count(1)

        form = page.locator("#create")
        form.locator("input[name=username]").fill("alice")
        form.locator("input[name=password]").fill("password123456")  # too common: refused, shown
        form.locator("button[type=submit]").click()
        expect(page.locator("#status")).to_contain_text("too common")
        form.locator("input[name=password]").fill(AGENT_PASSWORD)
        form.locator("input[name=capacity]").fill("3")
        form.locator("input[data-team=billing]").check()
        form.locator("button[type=submit]").click()
        expect(page.locator("#status")).to_have_text("Created: alice")
        alice = page.locator("#agents tr[data-username=alice]")
        expect(alice.locator("input.capacity")).to_have_value("3")
        expect(alice.locator("input[data-team=billing]")).to_be_checked()

        alice.locator("input[data-team=logistics]").check()
        expect(page.locator("#status")).to_have_text("Saved: alice")
        alice.locator("select.role-select").select_option("trainer")
        expect(alice.locator("select.role-select")).to_have_value("trainer")
        # Each save redraws the table (PATCH, then GET /api/agents): let it finish
        # before typing further, or the redraw empties the field being typed in.
        idle = page.locator("body:not([data-busy])")
        expect(idle).to_have_count(1)
        alice.locator("input.capacity").fill("7")
        alice.locator("input.capacity").blur()
        expect(idle).to_have_count(1)
        expect(alice.locator("input.capacity")).to_have_value("7")
        alice.locator("input.new-password").fill(NEW_PASSWORD)
        alice.locator("button.reset").click()
        expect(page.locator("#status")).to_have_text("New password set: alice")
        alice.locator("button.toggle").click()
        expect(alice).to_have_attribute("data-active", "false")

        listed = context.request.get(f"{base}/api/agents").json()["agents"]
        row = next(agent for agent in listed if agent["username"] == "alice")
        assert row["role"] == "trainer" and row["capacity"] == 7 and row["active"] is False
        assert sorted(row["skills"]) == ["billing", "logistics"]
        # Disabled: the new password does not sign in; enabled again, it does.
        signed = {"username": "alice", "password": NEW_PASSWORD}
        assert context.request.post(f"{base}/api/auth/token", data=signed).status == 401
        alice.locator("button.toggle").click()
        expect(alice).to_have_attribute("data-active", "true")
        again = context.request.post(f"{base}/api/auth/token", data=signed)
        assert again.ok, again.text()

        page.locator("#lang").click()
        expect(page.locator("header strong")).to_have_text("坐席与团队")
        expect(alice.locator("button.toggle")).to_have_text("停用")
        expect(alice.locator("select.role-select option:checked")).to_have_text("训练员")
        page.screenshot(path=str(ARTIFACTS / "accounts-page-zh.png"))


@pytest.mark.parametrize("storage", ["sqlite"], indirect=True)
def test_the_login_page_asks_an_admin_to_enrol_and_then_for_the_code(
    make_settings: type[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(second_factor, "clock", lambda: NOW)
    settings = make_settings(handoff_require_2fa="admin")  # type: ignore[call-arg]
    with serving(create_app(settings)) as host, chromium() as browser:
        base = f"http://{host}"
        page = browser.new_context(locale="en-US").new_page()
        _sign_in(page, base, *ADMIN)
        expect(page.locator("#code-field")).to_be_visible(timeout=30_000)
        expect(page.locator("#login-error")).to_have_text(
            "Enter the 6-digit code from your authenticator app."
        )
        secret = page.locator("#enrol-secret").inner_text()
        assert len(secret) >= 16
        page.locator("#code").fill("000000")
        page.locator("#login-button").click()
        expect(page.locator("#login-error")).to_have_text(
            "Wrong or already used code. Wait for the next one."
        )
        page.locator("#code").fill(pyotp.TOTP(secret).at(NOW))
        page.locator("#login-button").click()
        page.wait_for_url(f"{base}/inbox/", timeout=30_000)

        # Next time: only the code is asked for, in Chinese for a Chinese browser.
        zh = browser.new_context(locale="zh-CN").new_page()
        _sign_in(zh, base, *ADMIN)
        expect(zh.locator("#login-error")).to_have_text("请输入身份验证器中的 6 位验证码。")
        expect(zh.locator("#enrol-key")).to_be_hidden()
        zh.locator("#code").fill(pyotp.TOTP(secret).at(NOW + 30))
        zh.locator("#login-button").click()
        zh.wait_for_url(f"{base}/inbox/", timeout=30_000)
