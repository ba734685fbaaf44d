"""A thin client for the handoff service's internal API (the Rasa side's half).

``action_handoff`` hands a conversation over with
``POST {HANDOFF_URL}/api/internal/handoffs`` and gets the customer's place
in the queue back. Failures map onto a small error tree, so the action can
tell a service that is down from one that refuses us, and still pause.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from bot.settings import Settings, service_token

HANDOFFS_PATH = "/api/internal/handoffs"


class HandoffError(Exception):
    """Base class of everything the handoff client raises."""


class HandoffUnavailable(HandoffError):
    """The service timed out, failed (5xx), could not be reached or answered nonsense."""


class HandoffRejected(HandoffError):
    """The service refused the request (4xx): a wrong token or a bug on our side."""


@dataclass(frozen=True)
class QueueTicket:
    """Where the conversation stands in the agents' queue.

    Attributes:
        status: The service's status for it (``pending`` or ``open``).
        queue_position: 1 when the customer is next.
        expected_wait_s: The service's estimate, or None when it has none.
        agents_online: Agents online now.
        business_hours_open: Whether it is within business hours.
        next_open_at: ISO 8601 time business hours start again, when closed.
    """

    status: str
    queue_position: int | None
    expected_wait_s: float | None
    agents_online: int
    business_hours_open: bool
    next_open_at: str | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> QueueTicket:
        """Reads the service's answer.

        Raises:
            HandoffUnavailable: The answer lacks the fields of the contract.
        """
        try:
            position = body.get("queue_position")
            wait = body.get("expected_wait_s")
            return cls(
                status=str(body["status"]),
                queue_position=int(position) if position is not None else None,
                expected_wait_s=float(wait) if wait is not None else None,
                agents_online=int(body.get("agents_online") or 0),
                business_hours_open=bool(body.get("business_hours_open", True)),
                next_open_at=str(body["next_open_at"]) if body.get("next_open_at") else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise HandoffUnavailable(f"unexpected answer {body!r}") from error


class HandoffClient:
    """Calls the handoff service; one instance per action run.

    Args:
        base_url: The service's root URL.
        token: The shared service token.
        timeout_s: Total time allowed for one request.
        transport: An httpx transport, for tests that need one.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        timeout_s: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> HandoffClient:
        """Builds a client from the assistant's settings."""
        return cls(
            settings.handoff_url,
            token=service_token(settings),
            timeout_s=settings.handoff_timeout_s,
        )

    async def __aenter__(self) -> HandoffClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def hand_off(self, context: dict[str, Any]) -> QueueTicket:
        """Hands the conversation over with its context; returns its place in the queue.

        Raises:
            HandoffUnavailable: The service is down, slow or broken.
            HandoffRejected: The service refused the request.
        """
        try:
            # httpx times each phase; the customer waits for the whole request.
            response = await asyncio.wait_for(
                self._http.post(HANDOFFS_PATH, json=context), timeout=self._timeout_s
            )
        except (httpx.TransportError, asyncio.TimeoutError) as error:
            raise HandoffUnavailable(f"POST {HANDOFFS_PATH}: {error!r}") from error
        if response.status_code >= 500:
            raise HandoffUnavailable(f"POST {HANDOFFS_PATH}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise HandoffRejected(
                f"POST {HANDOFFS_PATH}: HTTP {response.status_code} {response.text[:300]}"
            )
        try:
            body = response.json()
        except ValueError as error:
            raise HandoffUnavailable(f"POST {HANDOFFS_PATH}: body is not JSON") from error
        if not isinstance(body, dict):
            raise HandoffUnavailable(f"POST {HANDOFFS_PATH}: unexpected answer {body!r}")
        return QueueTicket.from_json(body)
