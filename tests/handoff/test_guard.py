"""Headers on every answer, and the pages behind the session check however spelled."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN

PAGES = [
    "/inbox/",
    "/inbox",
    "/inbox/index.html",
    "/inbox/dashboard/",
    "/inbox/dashboard",
    "/inbox/dashboard/index.html",
    "/inbox/trainers/",
    "/inbox/trainers",
    "/inbox//dashboard/",
    "/inbox/./trainers/",
    "/inbox/dashboard/../trainers/",
    "/inbox/%64ashboard/",
    "/dashboard/",
    "/dashboard/index.html",
    "/trainers/",
    "/trainers/index.html",
    "/inbox/login.html",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_session_however_spelled(app_client: TestClient, path: str) -> None:
    answer = app_client.get(path, follow_redirects=False)
    assert answer.status_code in (303, 307, 404), (path, answer.status_code)
    if answer.status_code == 307:  # Starlette adding a slash: the target is checked too
        follow = app_client.get(answer.headers["location"], follow_redirects=False)
        assert follow.status_code in (303, 404)
    assert "<html" not in answer.text.lower()


def test_assets_stay_public_for_the_login_page(app_client: TestClient) -> None:
    assert app_client.get("/inbox/login.js").status_code == 200
    assert app_client.get("/inbox/inbox.css").status_code == 200
    assert app_client.get("/login").status_code == 200


def test_api_answers_are_never_cached(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    for answer in (
        app_client.get("/api/me", headers=admin_headers),
        app_client.get("/api/conversations", headers=admin_headers),
        app_client.get("/api/me"),  # a 401 too
        app_client.post("/api/auth/token", json={"username": "x1", "password": "wrong-guess"}),
    ):
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    assert "strict-transport-security" not in app_client.get("/health").headers


def test_production_sends_hsts(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(handoff_env="production", handoff_secret_key=secrets.token_urlsafe(32))
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.headers["strict-transport-security"].startswith("max-age=")
        token = client.post("/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert token.headers["strict-transport-security"].startswith("max-age=")
        assert token.headers["cache-control"] == "no-store"
