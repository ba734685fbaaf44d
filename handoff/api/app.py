"""The FastAPI application: lifespan-built services, routes, pages and error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.asyncio import Redis
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import db
from handoff.api.deps import CurrentAgent
from handoff.api.guard import GuardMiddleware
from handoff.api.openapi_doc import with_error_statuses
from handoff.api.routes import (
    agents,
    annotation_api,
    audit,
    auth,
    canned,
    conversations,
    customers,
    dead_letters,
    internal,
    messages,
    metrics,
    pages,
    reports,
    retrain,
    second_factor,
    trainers_page,
    ws,
)
from handoff.api.state import Services
from handoff.errors import Conflict, DeliveryError, Forbidden, InvalidInput, NotFound
from handoff.event_stream import EventStreamConsumer
from handoff.events import EventBus, LiveHub
from handoff.exported_labels import ExportedLabels
from handoff.rasa_client import RasaClient
from handoff.ratelimit import Counter, DatabaseCounter, LoginLimiter, LoginLimits, RedisCounter
from handoff.security import PasswordPool, Signer
from handoff.services.accounts import bootstrap_admin
from handoff.services.conversations import ConversationService
from handoff.services.customers import Retention
from handoff.services.metrics import rollup
from handoff.settings import Settings
from handoff.shop_client import ShopClient
from handoff.tracker_store import TrackerStore
from handoff.ws_tickets import TicketBook

logger = logging.getLogger(__name__)


def domain_intents(path: Path) -> list[str]:
    """Intents of Rasa's ``domain.yml`` and its ``faq/<key>`` retrieval intents (or none)."""
    if not path.is_file():
        return []
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names: list[str] = []
    for entry in domain.get("intents") or []:
        name = entry if isinstance(entry, str) else next(iter(entry), None)
        if isinstance(name, str):
            names.append(name)
    # Retrieval intents (faq/<key>) are named by their responses, utter_faq/<key>.
    for response in domain.get("responses") or {}:
        intent, slash, key = str(response).removeprefix("utter_").partition("/")
        if slash and key and intent in names:
            names.append(f"{intent}/{key}")
    return sorted(set(names))


def _limiter(
    settings: Settings, redis: Redis | None, sessions: async_sessionmaker[AsyncSession]
) -> LoginLimiter:
    counter: Counter = (
        RedisCounter(redis, prefix=settings.handoff_redis_prefix)
        if redis is not None
        else DatabaseCounter(sessions)
    )
    limits = LoginLimits(
        per_username=settings.handoff_login_attempts,
        per_address=settings.handoff_login_address_attempts,
        overall=settings.handoff_login_global_attempts,
        window_s=settings.handoff_login_window_s,
    )
    return LoginLimiter(counter, limits)


async def _sweep_forever(services: Services) -> None:
    while True:
        await asyncio.sleep(services.settings.handoff_sweep_interval_s)
        try:
            await services.conversations.sweep()
        except Exception:
            logger.exception("periodic sweep failed; trying again next round")


async def _retention_daily(services: Services) -> None:
    """Erases what is older than the retention settings, once at start and then daily."""
    settings = services.settings
    retention = Retention(
        services.sessions,
        services.tracker_store,
        services.exported_labels,
        days=settings.handoff_retention_days,
        tracker_days=settings.tracker_retention,
    )
    while True:
        try:
            await retention.perform()
        except Exception:
            logger.exception("retention failed; trying again next round")
        await asyncio.sleep(settings.handoff_retention_interval_s)


def create_app(settings: Settings) -> FastAPI:
    """The app for ``settings`` (already loaded with ``load_settings``; schema migrated)."""
    rollup.register()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.create_engine(settings.database)
        sessions = db.sessionmaker(engine)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        bus = EventBus()
        hub = LiveHub(redis, channel=f"{settings.handoff_redis_prefix}events")
        await hub.start()
        bus.listen(hub.publish)
        rasa = RasaClient.from_settings(settings)
        services = Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            bus=bus,
            hub=hub,
            rasa=rasa,
            conversations=ConversationService(
                sessions=sessions, bus=bus, rasa=rasa, settings=settings
            ),
            limiter=_limiter(settings, redis, sessions),
            signer=Signer(settings.secret_key(), ttl_s=settings.handoff_session_ttl_s),
            passwords=PasswordPool(
                workers=settings.handoff_login_workers, waiting=settings.handoff_login_queue
            ),
            tracker_store=TrackerStore.from_settings(settings),
            exported_labels=ExportedLabels.from_settings(settings),
            tickets=TicketBook(redis, prefix=settings.handoff_redis_prefix),
            redis=redis,
            shop=(
                ShopClient(
                    settings.shop_api_url,
                    token=settings.shop_api_token.get_secret_value()
                    if settings.shop_api_token
                    else None,
                )
                if settings.shop_api_url
                else None
            ),
            intents=domain_intents(settings.handoff_domain_path),
        )
        slack = None
        if settings.slack_enabled:
            from handoff.services.slack_bridge import SlackBridge

            slack = SlackBridge.from_settings(
                settings,
                sessions=services.sessions,
                conversations=services.conversations,
                redis=services.redis,
            )
            bus.listen(slack.on_event)
        app.state.services = services
        app.state.slack = slack
        await bootstrap_admin(
            sessions,
            settings.handoff_bootstrap_admin.get_secret_value()
            if settings.handoff_bootstrap_admin
            else None,
        )
        sweeper = asyncio.create_task(_sweep_forever(services), name="handoff-sweeper")
        retention = (
            asyncio.create_task(_retention_daily(services), name="handoff-retention")
            if settings.handoff_retention_days or settings.tracker_retention
            else None
        )
        stream = None
        if settings.event_stream_url:
            stream = EventStreamConsumer(
                settings.event_stream_url,
                queue=settings.event_queue,
                exchange=settings.event_exchange,
                ingest=services.conversations.ingest,
                keep=services.conversations.keep_event,
            )
            stream.start()
        try:
            yield
        finally:
            if stream is not None:
                await stream.stop()
            for task in (sweeper, retention):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await services.tracker_store.aclose()
            await services.exported_labels.aclose()
            if slack is not None:
                await slack.aclose()
            await hub.stop()
            await rasa.aclose()
            if services.shop is not None:
                await services.shop.aclose()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()
            services.passwords.close()

    app = FastAPI(
        title="Handoff service",
        version="1.0",
        description="Conversations in human hands: the agent inbox's API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_agent: CurrentAgent) -> dict[str, Any]:
        """The API's OpenAPI document (signed-in callers only, like every other route)."""
        return with_error_statuses(app.openapi())

    for router in (
        pages.router,
        auth.router,
        second_factor.router,
        agents.router,
        conversations.router,
        customers.router,
        messages.router,
        canned.router,
        internal.router,
        dead_letters.router,
        audit.router,
        annotation_api.router,
        annotation_api.internal_router,
        metrics.router,
        reports.router,
        retrain.router,
        ws.router,
    ):
        app.include_router(router)
    if settings.slack_enabled:
        from handoff.api.routes.slack import router as slack_router

        app.include_router(slack_router)
    pages.STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/inbox", pages.InboxFiles(directory=pages.STATIC_DIR, html=True), name="inbox")
    trainers_page.TRAINERS_DIR.mkdir(parents=True, exist_ok=True)
    app.mount(
        "/trainers",
        trainers_page.TrainerFiles(directory=trainers_page.TRAINERS_DIR, html=True),
        name="trainers",
    )
    app.mount(
        "/dashboard",
        pages.InboxFiles(directory=pages.STATIC_DIR / "dashboard", html=True),
        name="dashboard",
    )
    _errors(app)
    _guards(app, settings)
    return app


def _errors(app: FastAPI) -> None:
    def handler(code: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def respond(_request: Request, error: Exception) -> Response:
            return JSONResponse(status_code=code, content={"detail": str(error)})

        return respond

    app.add_exception_handler(NotFound, handler(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(Conflict, handler(status.HTTP_409_CONFLICT))
    app.add_exception_handler(InvalidInput, handler(status.HTTP_400_BAD_REQUEST))
    app.add_exception_handler(Forbidden, handler(status.HTTP_403_FORBIDDEN))
    app.add_exception_handler(DeliveryError, handler(status.HTTP_502_BAD_GATEWAY))

    async def malformed(_request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        details = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in error.errors()]
        return JSONResponse(
            status_code=status.HTTP_400_BAD_REQUEST,
            content={"detail": "malformed request", "errors": details},
        )

    app.add_exception_handler(RequestValidationError, malformed)

    async def unstorable(_request: Request, error: Exception) -> Response:
        # A value the database refuses (a NUL in a text, a number out of range): the
        # caller's input, so a 400, not a 500. The transaction was rolled back.
        logger.info("refused a value the database cannot store: %s", type(error).__name__)
        return JSONResponse(
            status_code=status.HTTP_400_BAD_REQUEST,
            content={"detail": "a value in the request cannot be stored"},
        )

    app.add_exception_handler(DataError, unstorable)


def _guards(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=settings.handoff_max_body_bytes,
        production=settings.production,
    )
