"""The TOTP second factor: enrolment, sign-in with a code, refusals, the admin requirement."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.services import second_factor
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, AGENT_PASSWORD, bearer

# The middle of a 30-second step, so the service and the test agree on "now".
NOW = (int(time.time()) // 30) * 30 + 15.0


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(second_factor, "clock", lambda: NOW)


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(NOW + 30 * steps_ahead)


def _sign_in(client: TestClient, username: str, password: str, code: str | None = None) -> Any:
    body = {"username": username, "password": password}
    if code is not None:
        body["code"] = code
    return client.post("/api/auth/token", json=body)


def _audited(client: TestClient, admin: dict[str, str], action: str) -> list[str]:
    answer = client.get("/api/audit", params={"action": action}, headers=admin)
    assert answer.status_code == 200, answer.text
    return [row["target"] for row in answer.json()["records"]]


def test_enrol_confirm_and_sign_in_with_codes_used_once(
    app_client: TestClient,
    make_agent: Callable[..., dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    token = make_agent("alice")
    enrolled = app_client.post("/api/me/totp", headers=token)
    assert enrolled.status_code == 201, enrolled.text
    secret = enrolled.json()["secret"]
    assert enrolled.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in enrolled.json()["otpauth_uri"]
    assert secret not in app_client.get("/api/me", headers=token).text
    # Not on yet: sign-in still needs no code.
    assert _sign_in(app_client, "alice", AGENT_PASSWORD).status_code == 200
    wrong = app_client.post("/api/me/totp/confirm", headers=token, json={"code": "000000"})
    assert wrong.status_code == 400
    first = _code(secret, -1)
    ok = app_client.post("/api/me/totp/confirm", headers=token, json={"code": first})
    assert ok.status_code == 200, ok.text
    assert app_client.post("/api/me/totp", headers=token).status_code == 409  # shown once
    # Now a code is needed, and the answer says so.
    needed = _sign_in(app_client, "alice", AGENT_PASSWORD)
    assert needed.status_code == 401
    assert needed.headers["X-Second-Factor"] == "required"
    assert "code" in needed.json()["detail"]
    assert _sign_in(app_client, "alice", AGENT_PASSWORD, first).status_code == 401  # replayed
    assert _sign_in(app_client, "alice", AGENT_PASSWORD, "12345a").status_code == 401
    assert _sign_in(app_client, "alice", "not-the-password", _code(secret, 1)).status_code == 401
    later = _code(secret)
    assert _sign_in(app_client, "alice", AGENT_PASSWORD, later).status_code == 200
    assert _sign_in(app_client, "alice", AGENT_PASSWORD, later).status_code == 401  # replayed
    assert _audited(app_client, admin_headers, "totp.enrol") == ["alice"]
    assert _audited(app_client, admin_headers, "totp.enable") == ["alice"]
    assert len(_audited(app_client, admin_headers, "totp.refused")) >= 3
    # Turning it off needs a fresh code.
    off = app_client.post("/api/me/totp/disable", headers=token, json={"code": later})
    assert off.status_code == 400
    off = app_client.post("/api/me/totp/disable", headers=token, json={"code": _code(secret, -1)})
    assert off.status_code == 400  # older than the last accepted code
    too_late = {"code": _code(secret, 2)}
    assert app_client.post("/api/me/totp/disable", headers=token, json=too_late).status_code == 400
    off = app_client.post("/api/me/totp/disable", headers=token, json={"code": _code(secret, 1)})
    assert off.status_code == 200, off.text
    assert _sign_in(app_client, "alice", AGENT_PASSWORD).status_code == 200
    assert _audited(app_client, admin_headers, "totp.disable") == ["alice"]


def test_wrong_codes_count_against_the_sign_in_limit(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]], settings: Settings
) -> None:
    token = make_agent("alice")
    secret = app_client.post("/api/me/totp", headers=token).json()["secret"]
    confirmed = app_client.post("/api/me/totp/confirm", headers=token, json={"code": _code(secret)})
    assert confirmed.status_code == 200
    for _ in range(settings.handoff_login_attempts):
        assert _sign_in(app_client, "alice", AGENT_PASSWORD, "999999").status_code == 401
    limited = _sign_in(app_client, "alice", AGENT_PASSWORD, _code(secret, 1))
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers


def test_admins_must_enrol_when_required(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(handoff_require_2fa="admin")
    with TestClient(create_app(settings)) as client:
        refused = _sign_in(client, *ADMIN)
        assert refused.status_code == 401
        assert refused.headers["X-Second-Factor"] == "enrol"
        assert "/api/auth/totp/enrol" in refused.json()["detail"]
        bad = {"username": ADMIN[0], "password": "not-the-password"}
        assert client.post("/api/auth/totp/enrol", json=bad).status_code == 401
        login = {"username": ADMIN[0], "password": ADMIN[1]}
        enrolled = client.post("/api/auth/totp/enrol", json=login)
        assert enrolled.status_code == 201, enrolled.text
        secret = enrolled.json()["secret"]
        assert _sign_in(client, *ADMIN, "000000").headers["X-Second-Factor"] == "enrol"
        cookie = client.post("/api/auth/login", json={**login, "code": _code(secret, -1)})
        assert cookie.status_code == 200, cookie.text
        csrf = {"X-CSRF-Token": cookie.json()["csrf_token"]}
        assert client.post("/api/auth/totp/enrol", json=login).status_code == 409
        needed = _sign_in(client, *ADMIN)
        assert needed.headers["X-Second-Factor"] == "required"
        token = _sign_in(client, *ADMIN, _code(secret)).json()["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        off = client.post("/api/me/totp/disable", headers=admin, json={"code": _code(secret, 1)})
        assert off.status_code == 409  # compulsory for admins
        assert client.get("/api/me", headers=csrf).status_code == 200
        # Agents are not concerned.
        created = client.post(
            "/api/agents",
            headers=admin,
            json={"username": "bob", "password": AGENT_PASSWORD, "role": "agent"},
        )
        assert created.status_code in (200, 201), created.text
        assert bearer(client, "bob", AGENT_PASSWORD)


def test_an_admin_removes_a_lost_second_factor(
    app_client: TestClient,
    make_agent: Callable[..., dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    token = make_agent("alice")
    secret = app_client.post("/api/me/totp", headers=token).json()["secret"]
    confirmed = app_client.post("/api/me/totp/confirm", headers=token, json={"code": _code(secret)})
    assert confirmed.status_code == 200
    listed = app_client.get("/api/agents", headers=admin_headers).json()["agents"]
    assert next(a for a in listed if a["username"] == "alice")["second_factor"] is True
    assert "secret" not in str(listed)
    url = "/api/agents/alice"
    turn_on = app_client.patch(url, headers=admin_headers, json={"second_factor": True})
    assert turn_on.status_code == 409
    removed = app_client.patch(url, headers=admin_headers, json={"second_factor": False})
    assert removed.status_code == 200, removed.text
    assert app_client.get("/api/me", headers=token).status_code == 401  # sessions ended
    assert _sign_in(app_client, "alice", AGENT_PASSWORD).status_code == 200
    listed = app_client.get("/api/agents", headers=admin_headers).json()["agents"]
    assert next(a for a in listed if a["username"] == "alice")["second_factor"] is False


def test_enrolling_before_sign_in_is_limited_like_sign_in(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(handoff_require_2fa="admin")
    with TestClient(create_app(settings)) as client:
        wrong = {"username": ADMIN[0], "password": "not-the-password"}
        for _ in range(settings.handoff_login_attempts):
            assert client.post("/api/auth/totp/enrol", json=wrong).status_code == 401
        right = {"username": ADMIN[0], "password": ADMIN[1]}
        limited = client.post("/api/auth/totp/enrol", json=right)
        assert limited.status_code == 429
        assert "secret" not in limited.text
