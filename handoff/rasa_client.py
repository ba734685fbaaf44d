"""Thin client of Rasa's HTTP API and the connectors' outbound routes."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from handoff.errors import DeliveryError
from handoff.settings import Settings

logger = logging.getLogger(__name__)

# Channels whose connector has an outbound route (``/webhooks/<channel>/outbound``).
OUTBOUND_CHANNELS = frozenset({"telegram", "wechat", "webchat"})
# Characters allowed as they are in a URL path segment (RFC 3986 ``pchar``).
# Rasa's server (Sanic) does not percent-decode path parameters: an id sent as
# ``telegram%3A42`` would name another, new conversation, so ``:`` stays as is.
_PATH_SAFE = ":@!$&'()*+,;="


def tracker_events_path(conversation_id: str) -> str:
    """``/conversations/<id>/tracker/events``, the id escaped only where a path needs it."""
    return f"/conversations/{quote(conversation_id, safe=_PATH_SAFE)}/tracker/events"


class RasaClient:
    """Resumes conversations, records agent turns and sends through connectors.

    Built in the app's lifespan (``from_settings``) and closed there.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth_token: str | None,
        service_token: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._auth_token = auth_token
        self._service_auth = {"Authorization": f"Bearer {service_token}"}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> RasaClient:
        """A client for ``RASA_URL`` with the configured tokens."""
        token = settings.rasa_auth_token.get_secret_value() if settings.rasa_auth_token else None
        return cls(
            settings.rasa_url,
            auth_token=token,
            service_token=settings.service_token(),
            timeout_s=settings.rasa_timeout_s,
        )

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self._http.aclose()

    async def resume(self, conversation_id: str) -> None:
        """Appends ``action_listen``, then ``{"event": "resume"}``: the bot answers again.

        A paused conversation's last action is ``action_handoff`` (Rasa stops
        predicting at the pause, before its usual ``action_listen``). Resumed
        as it is, the next message follows that action, no rule matches and
        the bot only says it did not understand. ``action_listen`` goes first,
        while the conversation is still paused, so no message can slip in
        between the two.
        """
        await self._append(conversation_id, {"event": "action", "name": "action_listen"})
        await self._append(conversation_id, {"event": "resume"})

    async def record_agent_turn(self, conversation_id: str, text: str, agent: str) -> None:
        """Appends the agent's reply to the tracker as a bot event marked with the agent."""
        await self._append(
            conversation_id,
            {
                "event": "bot",
                "text": text,
                "metadata": {"agent": agent, "source": "handoff"},
            },
        )

    async def record_system_turn(
        self, conversation_id: str, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        """Appends a bot turn the service itself sent (CSAT), marked ``source: handoff``."""
        event: dict[str, Any] = {"event": "bot", "text": text, "metadata": {"source": "handoff"}}
        if buttons:
            event["data"] = {"buttons": buttons}
        await self._append(conversation_id, event)

    async def send(
        self,
        channel: str,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Sends ``text`` to the customer through the channel's connector.

        ``idempotency_key`` (the same on every attempt at one message) travels as
        the ``Idempotency-Key`` header, for a connector to recognise a repeat.
        """
        body: dict[str, Any] = {"recipient_id": recipient_id, "text": text}
        if buttons:
            body["buttons"] = buttons
        await self._outbound(channel, body, idempotency_key)

    async def replay(self, channel: str, recipient_id: str, text: str) -> None:
        """Has the connector feed ``text`` to Rasa as a new customer message."""
        await self._outbound(channel, {"recipient_id": recipient_id, "replay_text": text})

    async def _append(self, conversation_id: str, event: dict[str, Any]) -> None:
        params = {"token": self._auth_token} if self._auth_token else None
        path = tracker_events_path(conversation_id)
        try:
            response = await self._http.post(path, params=params, json=event)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Rasa did not answer: {error!r}") from error
        if response.status_code >= 400:
            raise DeliveryError(
                f"Rasa refused the {event['event']} event: "
                f"HTTP {response.status_code} {response.text[:200]}"
            )

    async def _outbound(
        self, channel: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> None:
        if channel not in OUTBOUND_CHANNELS:
            raise DeliveryError(f"the {channel} channel cannot send messages to the customer")
        headers = dict(self._service_auth)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._http.post(
                f"/webhooks/{channel}/outbound", json=body, headers=headers
            )
        except httpx.HTTPError as error:
            failure = DeliveryError(f"the {channel} connector did not answer: {error!r}")
            # Not connected: nothing left. Any later failure may follow a send.
            failure.retryable = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
            raise failure from error
        if response.status_code != 200:
            try:
                detail = response.json().get("error") or response.text
            except (ValueError, AttributeError):
                detail = response.text
            failure = DeliveryError(
                f"the {channel} connector refused: HTTP {response.status_code} {str(detail)[:200]}"
            )
            # 502: the platform refused (sent: false); 503/504: Rasa not ready. 4xx: final.
            failure.retryable = response.status_code in (502, 503, 504)
            raise failure

    async def retrain(self, requested_by: str | None = None) -> tuple[int, dict[str, Any]]:
        """Starts a retrain on the Rasa side (``requested_by``), or reads the latest one.

        ``POST`` or ``GET /webhooks/retrain/jobs[/current]`` with the service
        token (``bot/runtime/retrain_jobs.py``); returns the status and JSON answered.

        Raises:
            DeliveryError: The Rasa side did not answer, or not with JSON.
        """
        try:
            if requested_by is None:
                response = await self._http.get(
                    "/webhooks/retrain/jobs/current", headers=self._service_auth
                )
            else:
                response = await self._http.post(
                    "/webhooks/retrain/jobs",
                    json={"requested_by": requested_by},
                    headers=self._service_auth,
                )
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DeliveryError(f"the Rasa side's retrain route: {error!r}") from error
        return response.status_code, body if isinstance(body, dict) else {}
