"""Dotted domain events and their listeners; live fan-out to WebSocket clients.

``EventBus`` is what the conversation service emits to. ``LiveHub`` delivers
events to the WebSockets of this replica: in-process, or through Redis
pub/sub when ``REDIS_URL`` is set so every replica sees every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

Event = dict[str, Any]
Listener = Callable[[Event], Awaitable[None]]

HANDED_OFF = "conversation.handed_off"
ASSIGNED = "conversation.assigned"
UPDATED = "conversation.updated"
RESOLVED = "conversation.resolved"
HANDED_BACK = "conversation.handed_back"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"  # a failed reply sent again: delivered, or failed anew
# {"type": "alert.raised", "alert": {"kind": "long_wait" | "fallback_jump", ...}}
ALERT_RAISED = "alert.raised"
# {"type": "alert.cleared", "alert": {"kind": "target_missed", "target", ...}}: back within target
ALERT_CLEARED = "alert.cleared"


class EventBus:
    """Calls every listener with each event; a failing listener never stops the others."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Adds a listener (WebSocket fan-out, Slack, ...)."""
        self._listeners.append(listener)

    async def emit(self, event: Event) -> None:
        """Delivers ``event`` (``{"type": "message.created", ...}``) to every listener."""
        for listener in self._listeners:
            try:
                await listener(event)
            except Exception:
                logger.exception("listener %r failed on %s", listener, event.get("type"))


class LiveHub:
    """Fans events out to this replica's WebSocket queues, across replicas with Redis."""

    QUEUE_SIZE = 1000

    def __init__(self, redis: Redis | None = None, *, channel: str = "handoff:events") -> None:
        self._redis = redis
        self._channel = channel
        self._queues: set[asyncio.Queue[Event]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Subscribes to the Redis channel (no-op in-process)."""
        if self._redis is not None and self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="live-hub-reader")
            await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        """Stops the Redis reader."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    def subscribe(self) -> asyncio.Queue[Event]:
        """A queue that receives every event from now on."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self.QUEUE_SIZE)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        """Stops delivering to ``queue``."""
        self._queues.discard(queue)

    async def publish(self, event: Event) -> None:
        """The bus listener: publishes to Redis, or delivers locally."""
        if self._redis is None:
            self._deliver(event)
        else:
            await self._redis.publish(self._channel, json.dumps(event, default=str))

    def _deliver(self, event: Event) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("a live client is too slow; dropping one event for it")

    async def _read(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._ready.set()
                    async for raw in pubsub.listen():
                        if raw.get("type") == "message":
                            self._deliver(json.loads(raw["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Redis pub/sub reader failed; reconnecting in 1 s")
                await asyncio.sleep(1)
