"""A small client of the real handoff service's JSON API, for stack tests.

It signs in with a bearer token (``POST /api/auth/token``), as scripts do,
and speaks only the routes of the handoff design.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.processes import HandoffService


class HandoffClient:
    """One signed-in account of the handoff service."""

    def __init__(
        self, base_url: str, username: str, password: str, *, timeout_s: float = 30
    ) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s)
        token = self.http.post("/api/auth/token", json={"username": username, "password": password})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    @classmethod
    def admin(cls, service: HandoffService) -> HandoffClient:
        """The bootstrap admin's client."""
        return cls(service.url, *service.admin)

    def create_agent(
        self, *, skills: list[str] | None = None, capacity: int = 50, prefix: str = "agent"
    ) -> tuple[str, str]:
        """Creates an agent account (admin only); returns its username and password."""
        username = f"{prefix}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        created = self.http.post(
            "/api/agents",
            json={
                "username": username,
                "password": password,
                "role": "agent",
                "skills": skills if skills is not None else [],
                "capacity": capacity,
            },
        )
        created.raise_for_status()
        return username, password

    def conversations(self, status: str = "all") -> list[dict[str, Any]]:
        """``GET /api/conversations?status=``."""
        found = self.http.get("/api/conversations", params={"status": status, "limit": 500})
        found.raise_for_status()
        return list(found.json()["conversations"])

    def conversation(self, cid: str) -> dict[str, Any] | None:
        """``GET /api/conversations/{id}``, or None while the service has not heard of it."""
        found = self.http.get(f"/api/conversations/{quote(cid, safe='')}")
        if found.status_code == 404:
            return None
        found.raise_for_status()
        return dict(found.json())

    def post(self, cid: str, action: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """``POST /api/conversations/{id}/<action>`` (assign, messages, handback, resolve)."""
        return self.http.post(
            f"/api/conversations/{quote(cid, safe='')}/{action}",
            json=body,
        )

    def wait_for(
        self,
        cid: str,
        check: Callable[[dict[str, Any]], bool],
        *,
        timeout_s: float = 20,
        what: str = "the conversation",
    ) -> dict[str, Any]:
        """Polls the conversation until ``check`` holds; fails with what was seen."""
        deadline = time.monotonic() + timeout_s
        seen: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            seen = self.conversation(cid)
            if seen is not None and check(seen):
                return seen
            time.sleep(0.1)
        raise AssertionError(f"{what} not seen in {timeout_s} s; last: {seen}")


def customer_texts(conversation: dict[str, Any]) -> list[str]:
    """The customer's messages the service recorded, in order."""
    return [m["text"] for m in conversation["messages"] if m["role"] == "customer"]
