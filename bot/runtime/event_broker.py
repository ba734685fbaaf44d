"""Rasa's event broker for the handoff service: every tracker event, in order, durably.

Two ways, chosen by the settings (:func:`HandoffEventBroker.from_endpoint_config`):

- **RabbitMQ** (``RABBITMQ_URL`` or ``EVENT_BROKER_URL`` set): Rasa's own Pika
  event broker publishes every event, persistent, to a durable queue
  (:mod:`bot.runtime.pika_broker`); the handoff service consumes it and
  acknowledges each event once stored (``handoff/event_stream.py``).
- **Embedded** (nothing set): :meth:`HandoffEventBroker.publish` writes each
  event to a durable outbox table next to the tracker store
  (:mod:`bot.runtime.outbox`, committed before it returns) and one background
  task drains the table in batches (``POST {HANDOFF_URL}/api/internal/events``,
  body ``{"events": [...]}``, bearer ``HANDOFF_SERVICE_TOKEN``). A batch leaves
  the table only once the service has accepted it, so the events of every
  conversation arrive in the order Rasa produced them, and neither a Rasa
  restart nor a service that is down loses one: they wait in the table (the
  drain resumes at start-up and polls every ``poll_s``). The service is
  idempotent by Rasa timestamp, so a batch sent twice (a crash between the
  answer and the delete) is stored once.

Only what a retry can fix is retried: connection errors, 5xx, and the answers
that hold for every batch alike (401/403 a wrong token, 404 a wrong URL, 408,
429). Any other 4xx means the service refused what it was sent: it stores the
good events of a batch and answers 422 naming the refused ones (kept as dead
letters there), so the broker logs them and moves on. An event that cannot
even be written as JSON (NaN, an odd object) is dropped alone, with an error.

Configured in ``endpoints.yml``::

    event_broker:
      type: bot.runtime.event_broker.HandoffEventBroker

The URL, token, timeout and outbox database come from the settings
(:mod:`bot.settings`); ``url``, ``batch_size``, ``poll_s`` and
``max_backoff_s`` in that section override them (tests use this).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from asyncio import AbstractEventLoop
from typing import Any

import httpx
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import Event
from rasa.utils.endpoints import EndpointConfig

from bot import settings as bot_settings
from bot.runtime.outbox import Outbox

logger = logging.getLogger(__name__)

EVENTS_PATH = "/api/internal/events"
DEFAULT_BATCH_SIZE = 200
DEFAULT_POLL_S = 1.0
DEFAULT_MAX_BACKOFF_S = 10.0
FIRST_BACKOFF_S = 0.5
CLOSE_TIMEOUT_S = 5.0
OUTBOX_FILE = "rasa.db"  # the tracker store's SQLite file (bot/runtime/serve.py)
# 4xx answers a retry can fix: they hold for every batch alike (a wrong token,
# a wrong URL, throttling), so dropping would lose good events.
_RETRYABLE_4XX = frozenset({401, 403, 404, 408, 429})


class EventDeliveryError(Exception):
    """A batch of events was not accepted by the handoff service."""


def serialised(event: dict[str, Any]) -> str | None:
    """The event as JSON text any database stores, or ``None`` (logged) when JSON cannot."""
    try:
        # default=str: one odd value must not stop every later event.
        body = json.dumps(event, default=str, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        logger.error("event of %s not serialisable, dropped: %s", event.get("sender_id"), error)
        return None
    try:
        body.encode()
    except UnicodeEncodeError:
        # A lone surrogate: as a JSON escape, so the service can refuse that event alone.
        body = json.dumps(event, default=str, ensure_ascii=True, allow_nan=False)
    return body


class HandoffEventBroker(EventBroker):
    """Forwards Rasa's tracker events to the handoff service through the outbox.

    Args:
        url: The handoff service's base URL.
        token: The shared service token (sent as ``Authorization: Bearer``).
        outbox_url: The outbox's database (SQLAlchemy URL).
        timeout_s: Time allowed for one POST.
        batch_size: Most events per POST.
        poll_s: How often the outbox is looked at when nothing was published.
        max_backoff_s: Longest wait between retries while the service is down.
        close_timeout_s: How long :meth:`close` keeps trying to deliver.
        transport: An httpx transport, for tests.
    """

    def __init__(
        self,
        *,
        url: str,
        token: str,
        outbox_url: str,
        timeout_s: float = bot_settings.DEFAULT_HANDOFF_TIMEOUT_S,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_s: float = DEFAULT_POLL_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        close_timeout_s: float = CLOSE_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if batch_size < 1 or poll_s <= 0:
            raise ValueError("batch_size and poll_s must be positive")
        self._url = url.rstrip("/") + EVENTS_PATH
        self._headers = {"Authorization": f"Bearer {token}"}
        self._outbox = Outbox(outbox_url)
        self._timeout_s = timeout_s
        self._batch_size = batch_size
        self._poll_s = poll_s
        self._max_backoff_s = max_backoff_s
        self._close_timeout_s = close_timeout_s
        self._transport = transport
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._dropped = 0
        self.delivered = 0

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> EventBroker:
        """The broker the settings ask for: RabbitMQ's when configured, else the outbox."""
        settings = bot_settings.load()
        if settings.event_broker_url:
            from bot.runtime.pika_broker import rabbitmq_broker

            return await rabbitmq_broker(settings, event_loop)
        options = broker_config.kwargs if broker_config else {}
        broker = cls(
            url=(broker_config.url if broker_config else None) or settings.handoff_url,
            token=bot_settings.service_token(settings),
            outbox_url=bot_settings.database_url(settings, OUTBOX_FILE),
            timeout_s=settings.handoff_timeout_s,
            batch_size=int(options.get("batch_size", DEFAULT_BATCH_SIZE)),
            poll_s=float(options.get("poll_s", DEFAULT_POLL_S)),
            max_backoff_s=float(options.get("max_backoff_s", DEFAULT_MAX_BACKOFF_S)),
        )
        broker.start()  # what a previous run left in the outbox leaves now
        return broker

    @property
    def pending(self) -> int:
        """Events waiting in the outbox."""
        return self._outbox.count()

    @property
    def dropped(self) -> int:
        """Events dropped so far (not serialisable, or refused by the service)."""
        return self._dropped

    def publish(self, event: dict[str, Any]) -> None:
        """Stores one event (a Rasa event dict with ``sender_id``) in the outbox."""
        self.publish_many([event])

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """Stores the new events of one tracker save in the outbox, in one transaction."""
        rows: list[tuple[str | None, str]] = []
        for event in events:
            body = serialised(event)
            if body is None:
                self._dropped += 1
                continue
            sender = event.get("sender_id")
            rows.append((str(sender) if sender is not None else None, body))
        self._outbox.append(rows)
        if rows and not self._closing:
            self.start()
            self._wakeup.set()

    def is_ready(self) -> bool:
        """Always ready: events wait in the outbox, never refused for a slow service."""
        return True

    def start(self) -> None:
        """Starts the delivery task (in the running loop; no-op outside one)."""
        if self._closing or (self._worker is not None and not self._worker.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not in a loop yet: the next publish starts it
        self._worker = loop.create_task(self._run(), name="handoff-event-broker")

    async def close(self) -> None:
        """Delivers what waits (for at most a few seconds), then stops; the rest stays stored."""
        if self._worker is None and not self._closing:
            self.start()
        self._closing = True
        self._wakeup.set()
        if self._worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), self._close_timeout_s)
            except asyncio.TimeoutError:
                self._worker.cancel()
                await asyncio.gather(self._worker, return_exceptions=True)
        waiting = self._outbox.count()
        if waiting:
            logger.warning(
                "handoff service unreachable at shutdown: %d events wait in the outbox"
                " for the next start",
                waiting,
            )
        self._outbox.dispose()

    async def _run(self) -> None:
        async with httpx.AsyncClient(
            headers=self._headers, timeout=self._timeout_s, transport=self._transport
        ) as http:
            while True:
                with self._outbox.drainer() as mine:
                    if mine:
                        await self._drain(http)
                        return
                if self._closing:
                    return
                await self._wait(self._poll_s)  # another replica drains; look again later

    async def _wait(self, seconds: float) -> None:
        self._wakeup.clear()
        try:
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _drain(self, http: httpx.AsyncClient) -> None:
        backoff_s = FIRST_BACKOFF_S
        failing_since_logged = False
        while True:
            rows = self._outbox.head(self._batch_size)
            if not rows:
                if self._closing:
                    return
                await self._wait(self._poll_s)
                continue
            try:
                await self._send(http, [body for _, body in rows])
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
            self._outbox.remove([row_id for row_id, _ in rows])
            if failing_since_logged:
                logger.info("handoff service reachable again; events flowing")
                failing_since_logged = False
            backoff_s = FIRST_BACKOFF_S

    async def _send(self, http: httpx.AsyncClient, bodies: list[str]) -> None:
        body = ('{"events": [' + ", ".join(bodies) + "]}").encode()
        sent = len(bodies)
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


_ORIGINAL_STREAM_NEW_EVENTS = TrackerStore._stream_new_events


async def _stream_new_events(
    self: TrackerStore, event_broker: EventBroker, new_events: list[Event], sender_id: str
) -> None:
    if not isinstance(event_broker, HandoffEventBroker):
        await _ORIGINAL_STREAM_NEW_EVENTS(self, event_broker, new_events, sender_id)
        return
    event_broker.publish_many([{"sender_id": sender_id, **event.as_dict()} for event in new_events])


def install() -> None:
    """Has Rasa's tracker stores hand the outbox a save's new events at once.

    Rasa 3.6 publishes each new event of a save alone
    (``TrackerStore._stream_new_events``); the outbox then commits once per
    event. Given them together it commits once per save, before the tracker
    store writes the same events (``docs/BENCHMARKS.md``, "Event stream").
    """
    TrackerStore._stream_new_events = _stream_new_events


def _refused(response: httpx.Response) -> list[Any] | None:
    """The refused events a 422 names (the others were stored), or ``None`` for all."""
    try:
        refused = response.json().get("refused")
    except (ValueError, AttributeError):
        return None
    return refused if isinstance(refused, list) else None
