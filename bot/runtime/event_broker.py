"""Rasa's event broker for the handoff service: every tracker event, in order.

Rasa calls :meth:`HandoffEventBroker.publish` synchronously, once per new
tracker event, from inside its message handling. Publishing only appends to
a bounded in-memory buffer; one background task sends the buffer in batches
(``POST {HANDOFF_URL}/api/internal/events``, body ``{"events": [...]}``,
bearer ``HANDOFF_SERVICE_TOKEN``). A single sender that removes a batch only
once the service has accepted it keeps the events of every conversation in
the order Rasa produced them; while the service is down the same batch is
retried with exponential backoff and new events wait behind it. When the
buffer is full, new events are dropped with an error in the log: Rasa must
never wait for the handoff service.

Only what a retry can fix is retried: connection errors, 5xx, and the answers
that hold for every batch alike (401/403 a wrong token, 404 a wrong URL, 408,
429). Any other 4xx means the service refused what it was sent: it stores the
good events of a batch and answers 422 naming the refused ones (kept as dead
letters there), so the broker logs them and moves on. An event that cannot
even be written as JSON (NaN, an odd object) is dropped alone, with an error.

Configured in ``endpoints.yml``::

    event_broker:
      type: bot.runtime.event_broker.HandoffEventBroker

The URL, token and timeout come from the settings (:mod:`bot.settings`);
``url``, ``batch_size``, ``max_buffer`` and ``max_backoff_s`` in that section
override them (tests use this).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
from asyncio import AbstractEventLoop
from typing import Any

import httpx
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot import settings as bot_settings

logger = logging.getLogger(__name__)

EVENTS_PATH = "/api/internal/events"
DEFAULT_BATCH_SIZE = 200
DEFAULT_MAX_BUFFER = 20_000
DEFAULT_MAX_BACKOFF_S = 30.0
FIRST_BACKOFF_S = 0.5
CLOSE_TIMEOUT_S = 5.0
# 4xx answers a retry can fix: they hold for every batch alike (a wrong token,
# a wrong URL, throttling), so dropping would lose good events.
_RETRYABLE_4XX = frozenset({401, 403, 404, 408, 429})


class EventDeliveryError(Exception):
    """A batch of events was not accepted by the handoff service."""


class HandoffEventBroker(EventBroker):
    """Forwards Rasa's tracker events to the handoff service, never blocking Rasa.

    Args:
        url: The handoff service's base URL.
        token: The shared service token (sent as ``Authorization: Bearer``).
        timeout_s: Time allowed for one POST.
        batch_size: Most events per POST.
        max_buffer: Most events waiting; beyond it new events are dropped.
        max_backoff_s: Longest wait between retries while the service is down.
        close_timeout_s: How long :meth:`close` keeps trying to deliver.
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        *,
        url: str,
        token: str,
        timeout_s: float = bot_settings.DEFAULT_HANDOFF_TIMEOUT_S,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if batch_size < 1 or max_buffer < 1:
            raise ValueError("batch_size and max_buffer must be positive")
        self._url = url.rstrip("/") + EVENTS_PATH
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout_s = timeout_s
        self._batch_size = batch_size
        self._max_buffer = max_buffer
        self._max_backoff_s = max_backoff_s
        self._close_timeout_s = close_timeout_s
        self._transport = transport
        self._buffer: collections.deque[dict[str, Any]] = collections.deque()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._overflowing = False
        self._dropped = 0
        self.delivered = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> HandoffEventBroker:
        """Builds the broker from the settings and its ``endpoints.yml`` section."""
        settings = bot_settings.load()
        options = broker_config.kwargs if broker_config else {}
        return cls(
            url=(broker_config.url if broker_config else None) or settings.handoff_url,
            token=bot_settings.service_token(settings),
            timeout_s=settings.handoff_timeout_s,
            batch_size=int(options.get("batch_size", DEFAULT_BATCH_SIZE)),
            max_buffer=int(options.get("max_buffer", DEFAULT_MAX_BUFFER)),
            max_backoff_s=float(options.get("max_backoff_s", DEFAULT_MAX_BACKOFF_S)),
        )

    @property
    def pending(self) -> int:
        """Events waiting to be delivered."""
        return len(self._buffer)

    @property
    def dropped(self) -> int:
        """Events dropped so far (buffer full, or refused by the service)."""
        return self._dropped

    def publish(self, event: dict[str, Any]) -> None:
        """Queues one event (a Rasa event dict with ``sender_id``); returns at once."""
        if self._closing:
            logger.error("event broker closed; event of %s dropped", event.get("sender_id"))
            self._dropped += 1
            return
        if len(self._buffer) >= self._max_buffer:
            if not self._overflowing:
                logger.error(
                    "handoff event buffer full (%d events; is the handoff service at %s up?)"
                    " - dropping new events until it drains",
                    self._max_buffer,
                    self._url,
                )
                self._overflowing = True
            self._dropped += 1
            return
        if self._overflowing:
            logger.error("handoff event buffer has room again; %d events lost", self._dropped)
            self._overflowing = False
        self._buffer.append(event)
        self._ensure_worker()
        self._wakeup.set()

    def is_ready(self) -> bool:
        """Always ready: events are buffered, never refused for a slow service."""
        return True

    async def close(self) -> None:
        """Delivers what is buffered (for at most a few seconds), then stops."""
        self._closing = True
        self._wakeup.set()
        if self._worker is None and self._buffer:
            self._ensure_worker()
        if self._worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), self._close_timeout_s)
            except asyncio.TimeoutError:
                self._worker.cancel()
                await asyncio.gather(self._worker, return_exceptions=True)
        if self._buffer:
            logger.error(
                "handoff service unreachable at shutdown: %d events not delivered",
                len(self._buffer),
            )
            self._dropped += len(self._buffer)
            self._buffer.clear()

    def _ensure_worker(self) -> None:
        if self._worker is not None and not self._worker.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not in a loop yet: the next publish or close starts it
        self._worker = loop.create_task(self._run(), name="handoff-event-broker")

    async def _run(self) -> None:
        async with httpx.AsyncClient(
            headers=self._headers, timeout=self._timeout_s, transport=self._transport
        ) as http:
            backoff_s = FIRST_BACKOFF_S
            failing_since_logged = False
            while True:
                if not self._buffer:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = [self._buffer[i] for i in range(min(self._batch_size, len(self._buffer)))]
                try:
                    await self._send(http, batch)
                except EventDeliveryError as error:
                    if not failing_since_logged:
                        logger.warning("handoff events not delivered, retrying: %s", error)
                        failing_since_logged = True
                    else:
                        logger.debug("handoff events still not delivered: %s", error)
                    if self._closing:
                        # Shutting down: keep trying until close() gives up.
                        backoff_s = min(backoff_s, 0.5)
                    await asyncio.sleep(backoff_s * random.uniform(0.8, 1.2))
                    backoff_s = min(backoff_s * 2, self._max_backoff_s)
                    continue
                for _ in batch:
                    self._buffer.popleft()
                if failing_since_logged:
                    logger.info("handoff service reachable again; events flowing")
                    failing_since_logged = False
                backoff_s = FIRST_BACKOFF_S

    def _body(self, batch: list[dict[str, Any]]) -> tuple[bytes, int]:
        """``{"events": [...]}``, without the events JSON cannot carry (dropped, logged)."""
        parts: list[str] = []
        for event in batch:
            try:
                # default=str: one odd value must not stop every later event.
                parts.append(json.dumps(event, default=str, ensure_ascii=False, allow_nan=False))
            except (TypeError, ValueError) as error:
                logger.error(
                    "event of %s not serialisable, dropped: %s", event.get("sender_id"), error
                )
                self._dropped += 1
        body = '{"events": [' + ", ".join(parts) + "]}"
        try:
            return body.encode(), len(parts)
        except UnicodeEncodeError:
            # A lone surrogate: as a JSON escape, so the service can refuse that event alone.
            return json.dumps(json.loads(body), ensure_ascii=True).encode(), len(parts)

    async def _send(self, http: httpx.AsyncClient, batch: list[dict[str, Any]]) -> None:
        body, sent = self._body(batch)
        try:
            response = await http.post(
                self._url, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as error:
            raise EventDeliveryError(f"{self._url}: {error!r}") from error
        if response.status_code >= 500 or response.status_code in _RETRYABLE_4XX:
            raise EventDeliveryError(f"{self._url}: HTTP {response.status_code}")
        if response.is_error:
            refused = _refused(response)
            logger.error(
                "handoff service refused %d events (HTTP %s): %s — dropped",
                sent if refused is None else len(refused),
                response.status_code,
                response.text[:500],
            )
            self._dropped += sent if refused is None else len(refused)
            self.delivered += 0 if refused is None else sent - len(refused)
            return
        self.delivered += sent


def _refused(response: httpx.Response) -> list[Any] | None:
    """The refused events a 422 names (the others were stored), or ``None`` for all."""
    try:
        refused = response.json().get("refused")
    except (ValueError, AttributeError):
        return None
    return refused if isinstance(refused, list) else None
