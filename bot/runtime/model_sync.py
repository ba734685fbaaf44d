"""Every Rasa replica serves the registry's model: the watcher, and ``/webhooks/models/``.

Mounted on each Rasa server (``credentials.yml``). Once the server listens it
checks, every ``BOT_MODEL_POLL_S`` seconds (default 5) and at once when
promotion or rollback announces a version on Redis (``REDIS_URL``, see
:mod:`bot.training.model_news`), which version the registry serves
(:mod:`bot.training.registry`, in ``DATABASE_URL``). When this server serves
another model it loads that version's file into itself with ``PUT /model``
(``RASA_AUTH_TOKEN`` as ``?token=``), and it reports what it serves to the
registry on every check, as replica ``BOT_REPLICA_NAME`` (default
``<host>:<RASA_PORT>``); ``bot models`` lists the reports. A version whose
file cannot be loaded is reported as an error and not retried until the
registry serves another one.

``GET /webhooks/models/served`` answers what this replica serves
(``{"replica", "model_id", "version", "error"}``).

The model file is the registry's path, else a file of the same name in the
model cache (``BOT_MODEL_CACHE``) or ``models/``: replicas on several
machines share one of these folders (a shared volume).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings as bot_settings
from bot.settings import PROJECT_ROOT, Settings
from bot.training.model_cache import cache_dir
from bot.training.model_news import CHANNEL
from bot.training.rasa_server import LOAD_TIMEOUT_S
from bot.training.registry import ModelVersion, Registry

logger = logging.getLogger(__name__)

DEFAULT_POLL_S = 5.0


def model_file(version: ModelVersion) -> Path:
    """The version's file on this machine: its path, else the same name in the cache or models/."""
    registered = Path(version.path)
    name = registered.name
    for path in (registered, cache_dir() / name, PROJECT_ROOT / "models" / name):
        if path.is_file():
            return path
    raise FileNotFoundError(f"{registered.name} is neither at {registered} nor in {cache_dir()}")


class ModelWatcher:
    """Keeps one Rasa server on the registry's served version and reports it."""

    def __init__(
        self, *, name: str, url: str, token: str | None, poll_s: float, settings: Settings
    ) -> None:
        """``url``: this server's own address, for ``GET /status`` and ``PUT /model``."""
        self.name, self.url, self.token, self.poll_s = name, url, token, poll_s
        self.settings = settings
        self.state: dict[str, Any] = {"replica": name, "model_id": None, "version": None}
        self.state["error"] = None
        self._failed: int | None = None
        self._registry: Registry | None = None

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    async def _model_id(self, http: httpx.AsyncClient) -> str | None:
        status = await http.get(f"{self.url}/status", params=self._params())
        status.raise_for_status()
        model_id = status.json().get("model_id")
        return str(model_id) if model_id else None

    async def check(self, http: httpx.AsyncClient) -> None:
        """One look at the registry: load its served version if needed, then report."""
        if self._registry is None:
            self._registry = await asyncio.to_thread(Registry.from_settings, self.settings)
        registry = self._registry
        own = await self._model_id(http)
        served = await asyncio.to_thread(registry.serving)
        if served is not None and own != served.model_id and served.version != self._failed:
            logger.info("loading model version %s (%s)", served.version, served.path)
            try:
                loaded = await http.put(
                    f"{self.url}/model",
                    params=self._params(),
                    json={"model_file": str(model_file(served).resolve())},
                    timeout=LOAD_TIMEOUT_S,
                )
                if loaded.status_code != 204:
                    raise RuntimeError(f"PUT /model: {loaded.status_code} {loaded.text[:300]}")
                own = await self._model_id(http)
                self.state["error"], self._failed = None, None
            except (OSError, RuntimeError, httpx.HTTPError) as error:
                logger.exception("could not load model version %s", served.version)
                self.state["error"] = f"version {served.version}: {error}"
                self._failed = served.version
        if served is not None and own == served.model_id:
            self.state["error"], self._failed = None, None
        known = await asyncio.to_thread(registry.version_of, own)
        self.state |= {"model_id": own, "version": known.version if known else None}
        await asyncio.to_thread(
            registry.report,
            name=self.name,
            url=self.url,
            model_id=own,
            version=self.state["version"],
            error=self.state["error"],
        )

    async def run(self) -> None:
        """Checks forever: every ``poll_s`` seconds, and when Redis announces a version."""
        pubsub = await self._subscribe()
        async with httpx.AsyncClient(timeout=30) as http:
            while True:
                try:
                    await self.check(http)
                except Exception:  # the watcher must outlive a database or Redis outage
                    logger.exception("model check failed; retrying in %.0f s", self.poll_s)
                pubsub = await self._wait(pubsub)

    async def _subscribe(self) -> Any:
        if not self.settings.redis_url:
            return None
        try:
            pubsub = aioredis.from_url(self.settings.redis_url).pubsub()
            await pubsub.subscribe(CHANNEL)
            return pubsub
        except Exception:
            logger.exception("no Redis for model news; polling the registry only")
            return None

    async def _wait(self, pubsub: Any) -> Any:
        if pubsub is None:
            await asyncio.sleep(self.poll_s)
            return await self._subscribe() if self.settings.redis_url else None
        try:
            await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll_s)
            return pubsub
        except Exception:
            logger.exception("Redis subscription lost; polling")
            await asyncio.sleep(self.poll_s)
            return None

    def close(self) -> None:
        """Releases the registry's connections."""
        if self._registry is not None:
            self._registry.close()


class ModelSyncInput(InputChannel):
    """Mounts the watcher and ``GET /served`` on the Rasa server (no customer messages)."""

    @classmethod
    def name(cls) -> str:
        """``/webhooks/models/``."""
        return "models"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ModelSyncInput:
        """``poll_s`` (``BOT_MODEL_POLL_S``) and ``replica_name`` (``BOT_REPLICA_NAME``)."""
        credentials = credentials or {}
        settings = bot_settings.load()
        try:
            poll_s = float(credentials.get("poll_s") or DEFAULT_POLL_S)
        except ValueError as error:
            raise bot_settings.SettingsError("BOT_MODEL_POLL_S must be a number") from error
        if poll_s <= 0:
            raise bot_settings.SettingsError("BOT_MODEL_POLL_S must be positive")
        name = str(credentials.get("replica_name") or "").strip()
        watcher = ModelWatcher(
            name=name or f"{socket.gethostname()}:{settings.rasa_port}",
            url=f"http://127.0.0.1:{settings.rasa_port}",
            token=settings.rasa_auth_token,
            poll_s=poll_s,
            settings=settings,
        )
        return cls(watcher)

    def __init__(self, watcher: ModelWatcher) -> None:
        """Watches with ``watcher`` once the server listens."""
        self.watcher = watcher
        self._task: asyncio.Task[None] | None = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /served``, and the watcher started and stopped with the server."""
        blueprint = Blueprint("model_sync", __name__)

        @blueprint.listener("after_server_start")
        async def start(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            self._task = loop.create_task(self.watcher.run())

        @blueprint.listener("before_server_stop")
        async def stop(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self.watcher.close()

        @blueprint.route("/served", methods=["GET"])
        async def served(request: Request) -> HTTPResponse:
            return response.json(self.watcher.state)

        return blueprint
