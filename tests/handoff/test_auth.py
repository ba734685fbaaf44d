"""Sign-in, rate limiting, roles, CSRF, the service token and public routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.handoff.helpers import ADMIN, handoff_body, service_headers


def test_wrong_password_is_401_and_no_token(app_client: TestClient) -> None:
    response = app_client.post(
        "/api/auth/token", json={"username": ADMIN[0], "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert "access_token" not in response.json()


def test_unknown_user_is_401(app_client: TestClient) -> None:
    response = app_client.post("/api/auth/token", json={"username": "nobody", "password": "x" * 9})
    assert response.status_code == 401


def test_bearer_token_reaches_me(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    response = app_client.get("/api/me", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == {
        "username": "root",
        "role": "admin",
        "skills": ["after_sales", "logistics", "billing", "complaints"],
        "online": False,
        "capacity": 5,
    }


def test_forged_token_is_401(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    token = admin_headers["Authorization"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert app_client.get("/api/me", headers={"Authorization": forged}).status_code == 401


def test_failed_logins_are_rate_limited_per_user_and_address(app_client: TestClient) -> None:
    for _ in range(5):
        response = app_client.post(
            "/api/auth/login", json={"username": ADMIN[0], "password": "wrong-password"}
        )
        assert response.status_code == 401
    blocked = app_client.post("/api/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    # Another username from the same address is not affected.
    other = app_client.post("/api/auth/token", json={"username": "someone", "password": "x" * 9})
    assert other.status_code == 401


def test_every_api_route_needs_auth(app_client: TestClient) -> None:
    for method, path in [
        ("GET", "/api/me"),
        ("GET", "/api/conversations"),
        ("GET", "/api/conversations/telegram:1"),
        ("GET", "/api/intents"),
        ("GET", "/api/canned-responses"),
        ("POST", "/api/agents"),
        ("POST", "/api/conversations/telegram:1/assign"),
        ("POST", "/api/me/presence"),
    ]:
        assert app_client.request(method, path).status_code == 401, path


def test_public_routes(app_client: TestClient) -> None:
    assert app_client.get("/health").json() == {"status": "ok"}
    login = app_client.get("/login")
    assert login.status_code == 200 and "text/html" in login.headers["content-type"]
    inbox = app_client.get("/inbox/", follow_redirects=False)
    assert inbox.status_code == 303 and inbox.headers["location"] == "/login"
    assert app_client.get("/openapi.json").status_code == 401


def test_openapi_documents_the_api(app_client: TestClient, admin_headers: dict[str, str]) -> None:
    spec = app_client.get("/openapi.json", headers=admin_headers).json()
    for path in (
        "/api/auth/token",
        "/api/agents",
        "/api/conversations",
        "/api/conversations/{cid}/assign",
        "/api/conversations/{cid}/messages",
        "/api/conversations/{cid}/handback",
        "/api/conversations/{cid}/resolve",
    ):
        assert path in spec["paths"], path


def test_cookie_login_needs_csrf_header_for_changes(app_client: TestClient) -> None:
    response = app_client.post("/api/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200
    csrf = response.json()["csrf_token"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert app_client.get("/api/me").json()["username"] == "root"  # reads need no token
    missing = app_client.post("/api/me/presence", json={"online": True})
    assert missing.status_code == 403
    wrong = app_client.post(
        "/api/me/presence", json={"online": True}, headers={"X-CSRF-Token": "not-the-token"}
    )
    assert wrong.status_code == 403
    ok = app_client.post("/api/me/presence", json={"online": True}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["online"] is True
    assert app_client.get("/inbox/").status_code == 200
    out = app_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert app_client.get("/api/me").status_code == 401


def test_roles(app_client: TestClient, make_agent: Callable[..., dict[str, str]]) -> None:
    agent = make_agent("alice", skills=["billing"])
    trainer = make_agent("tess", role="trainer")
    new = {"username": "mallory", "password": "mallory-password", "role": "admin"}
    assert app_client.post("/api/agents", headers=agent, json=new).status_code == 403
    assert app_client.post("/api/agents", headers=trainer, json=new).status_code == 403
    canned = {"shortcut": "hi", "text": "Hello!", "language": "en"}
    assert app_client.post("/api/canned-responses", headers=agent, json=canned).status_code == 403
    app_client.post(
        "/api/internal/handoffs", headers=service_headers(), json=handoff_body("telegram:7")
    )
    claim = app_client.post("/api/conversations/telegram:7/assign", headers=trainer)
    assert claim.status_code == 403
    assert app_client.get("/api/conversations/telegram:7", headers=trainer).status_code == 200


def test_admin_creates_agents_and_names_are_unique(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {
        "username": "bob",
        "password": "tidal-granite-55",
        "role": "agent",
        "skills": ["logistics"],
    }
    created = app_client.post("/api/agents", headers=admin_headers, json=body)
    assert created.status_code == 201
    assert created.json()["agent"]["skills"] == ["logistics"]
    assert app_client.post("/api/agents", headers=admin_headers, json=body).status_code == 409
    short = {**body, "username": "carol", "password": "short"}
    assert app_client.post("/api/agents", headers=admin_headers, json=short).status_code == 409
    bad = {**body, "username": "dave", "skills": ["astrology"]}
    assert app_client.post("/api/agents", headers=admin_headers, json=bad).status_code == 409


def test_internal_routes_need_the_service_token(app_client: TestClient) -> None:
    body = handoff_body("telegram:9")
    assert app_client.post("/api/internal/handoffs", json=body).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert app_client.post("/api/internal/handoffs", json=body, headers=wrong).status_code == 403
    assert (
        app_client.post("/api/internal/events", json={"events": []}, headers=wrong).status_code
        == 403
    )
    ok = app_client.post("/api/internal/handoffs", json=body, headers=service_headers())
    assert ok.status_code == 201


def test_malformed_and_oversized_bodies(app_client: TestClient) -> None:
    malformed = app_client.post(
        "/api/internal/events",
        content=b"{not json",
        headers={**service_headers(), "content-type": "application/json"},
    )
    assert malformed.status_code == 400
    wrong_shape = app_client.post(
        "/api/internal/events", json={"events": "nope"}, headers=service_headers()
    )
    assert wrong_shape.status_code == 400
    huge = app_client.post(
        "/api/auth/login", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
