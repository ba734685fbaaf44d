"""Accounts: sessions that end, admins' changes, the password policy, unique names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from handoff.errors import Conflict
from handoff.services.passwords import check_password
from tests.handoff.helpers import ADMIN, AGENT_PASSWORD, bearer

NEW_PASSWORD = "marble-thistle-oven-24"


def _cookie_login(client: TestClient, username: str, password: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def test_logout_ends_every_session_cookie_and_bearer(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    token = make_agent("alice")
    csrf = _cookie_login(app_client, "alice", AGENT_PASSWORD)
    assert app_client.get("/api/me").json()["username"] == "alice"
    assert app_client.get("/inbox/", follow_redirects=False).status_code == 200
    out = app_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert app_client.get("/api/me", headers=token).status_code == 401
    app_client.cookies.clear()
    # A copy of the old cookie kept by an attacker is dead too.
    assert app_client.get("/inbox/", follow_redirects=False).status_code == 303
    again = bearer(app_client, "alice", AGENT_PASSWORD)
    assert app_client.get("/api/me", headers=again).status_code == 200


def test_a_stolen_cookie_dies_with_logout(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    token = make_agent("alice")
    _cookie_login(app_client, "alice", AGENT_PASSWORD)
    stolen = dict(app_client.cookies)
    assert app_client.post("/api/auth/logout", headers=token).status_code == 200
    app_client.cookies.clear()
    for name, value in stolen.items():
        app_client.cookies.set(name, value)
    assert app_client.get("/api/me").status_code == 401


def test_own_password_change_needs_the_current_one_and_ends_sessions(
    app_client: TestClient, make_agent: Callable[..., dict[str, str]]
) -> None:
    token = make_agent("alice")
    change = {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    assert app_client.post("/api/me/password", headers=token, json=change).status_code == 403
    weak = {"current_password": AGENT_PASSWORD, "new_password": "alice-1234567"}
    assert app_client.post("/api/me/password", headers=token, json=weak).status_code == 409
    good = {"current_password": AGENT_PASSWORD, "new_password": NEW_PASSWORD}
    assert app_client.post("/api/me/password", headers=token, json=good).status_code == 200
    assert app_client.get("/api/me", headers=token).status_code == 401
    old = {"username": "alice", "password": AGENT_PASSWORD}
    assert app_client.post("/api/auth/token", json=old).status_code == 401
    bearer(app_client, "alice", NEW_PASSWORD)


def test_disabling_an_account_ends_its_sessions_and_sign_in(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    token = make_agent("alice", online=True)
    off = app_client.patch("/api/agents/alice", headers=admin_headers, json={"active": False})
    assert off.status_code == 200
    assert off.json()["agent"]["active"] is False and off.json()["agent"]["online"] is False
    assert app_client.get("/api/me", headers=token).status_code == 401
    login = {"username": "alice", "password": AGENT_PASSWORD}
    assert app_client.post("/api/auth/token", json=login).status_code == 401
    listed = app_client.get("/api/agents", headers=admin_headers).json()["agents"]
    assert next(a for a in listed if a["username"] == "alice")["active"] is False
    on = app_client.patch("/api/agents/alice", headers=admin_headers, json={"active": True})
    assert on.status_code == 200
    assert app_client.get("/api/me", headers=token).status_code == 401  # still ended
    bearer(app_client, "alice", AGENT_PASSWORD)


def test_admin_changes_password_role_skills_and_capacity(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    token = make_agent("alice")
    changed = app_client.patch(
        "/api/agents/ALICE",
        headers=admin_headers,
        json={"role": "trainer", "skills": ["billing"], "capacity": 2},
    )
    assert changed.status_code == 200, changed.text
    agent = changed.json()["agent"]
    assert (agent["role"], agent["skills"], agent["capacity"]) == ("trainer", ["billing"], 2)
    assert app_client.get("/api/me", headers=token).json()["role"] == "trainer"
    password = app_client.patch(
        "/api/agents/alice", headers=admin_headers, json={"password": NEW_PASSWORD}
    )
    assert password.status_code == 200
    assert app_client.get("/api/me", headers=token).status_code == 401
    bearer(app_client, "alice", NEW_PASSWORD)


def test_account_changes_that_are_refused(
    app_client: TestClient,
    admin_headers: dict[str, str],
    make_agent: Callable[..., dict[str, str]],
) -> None:
    agent = make_agent("alice")
    patch = app_client.patch
    assert patch("/api/agents/alice", headers=agent, json={"capacity": 50}).status_code == 403
    assert patch("/api/agents/nobody", headers=admin_headers, json={}).status_code == 404
    for body in ({"skills": ["astrology"]}, {"password": "short"}, {"password": "alice-is-me-1"}):
        assert patch("/api/agents/alice", headers=admin_headers, json=body).status_code == 409
    for body in ({"capacity": -1}, {"role": "emperor"}, {"username": "eve"}):
        assert patch("/api/agents/alice", headers=admin_headers, json=body).status_code == 400
    # The last active admin can neither be disabled nor demoted.
    root = f"/api/agents/{ADMIN[0]}"
    assert patch(root, headers=admin_headers, json={"active": False}).status_code == 409
    assert patch(root, headers=admin_headers, json={"role": "agent"}).status_code == 409


def test_usernames_are_unique_whatever_the_case(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"username": "AgentA", "password": AGENT_PASSWORD}
    assert app_client.post("/api/agents", headers=admin_headers, json=body).status_code == 201
    twin = {**body, "username": "agenta"}
    assert app_client.post("/api/agents", headers=admin_headers, json=twin).status_code == 409
    token = bearer(app_client, "agentA", AGENT_PASSWORD)
    assert app_client.get("/api/me", headers=token).json()["username"] == "AgentA"


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password",
        " " * 12,
        "\x00" * 12,
        "1234567890",
        "Password2026!",
        "P@ssw0rd1234",
        "qwertyuiop",
        "aaaaaaaaaaaa",
        "abababababab",
        "alice-and-more-words",
        "ALICE-and-more-words",
        "tab\there-is-long",
        "zero\u200bwidth-long-text",
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(Conflict):
        check_password(password, username="alice")


def test_reasonable_passwords_pass() -> None:
    for password in (AGENT_PASSWORD, NEW_PASSWORD, "密码是一句很长的中文短语", "x7#Qm!2pLz9v"):
        check_password(password, username="alice")


def test_the_bootstrap_admin_must_follow_the_policy(
    make_settings: Callable[..., object],
) -> None:
    from handoff.api.app import create_app
    from handoff.errors import SettingsError

    settings = make_settings(handoff_bootstrap_admin="boss:password123")
    with pytest.raises(SettingsError, match="common"), TestClient(create_app(settings)):  # type: ignore[arg-type]
        pass
