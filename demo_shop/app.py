"""The demo shop's ASGI application: :func:`create_app` wires routes, auth, limits and errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.common.service_token import token_matches
from demo_shop.db import make_engine, make_sessions, prepare
from demo_shop.errors import BadRequest, Conflict, DemoShopError, NotFound
from demo_shop.routes import ROUTES

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
# Probes and load balancers ask without a token.
OPEN_PATHS = frozenset({"/health"})

_STATUS_BY_ERROR: tuple[tuple[type[DemoShopError], int], ...] = (
    (BadRequest, 400),
    (NotFound, 404),
    (Conflict, 409),
)
_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class _BearerAuth:
    """Refuses every request outside ``open_paths`` without ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, *, token: str, open_paths: frozenset[str]) -> None:
        self._app = app
        self._token = token
        self._open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open_paths or self._authorized(scope):
            await self._app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        return token_matches(Headers(scope=scope).get("authorization"), self._token)


class _BodyLimit:
    """Answers 413 to request bodies over ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            await _error_response(413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    # Raised inside the route's body read; the handler below answers.
                    raise HTTPException(status_code=413)
            return message

        await self._app(scope, limited_receive, send)


def _error_response(status_code: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    code = _CODE_BY_STATUS.get(status_code, f"http_{status_code}")
    return JSONResponse({"error": code}, status_code=status_code, headers=headers)


async def _on_shop_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DemoShopError)
    status_code = next(
        (status for kind, status in _STATUS_BY_ERROR if isinstance(error, kind)), 500
    )
    return JSONResponse(error.payload(), status_code=status_code)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _error_response(error.status_code, error.headers)


async def _on_database_down(request: Request, error: Exception) -> Response:
    logger.exception("The demo shop's database is unavailable", exc_info=error)
    return JSONResponse({"error": "database_unavailable"}, status_code=503)


async def _on_crash(request: Request, error: Exception) -> Response:
    # Starlette logs the traceback after this response is sent.
    return JSONResponse({"error": "internal_error"}, status_code=500)


def create_app(*, database_url: str, token: str | None) -> Starlette:
    """Builds the demo shop.

    The database engine is built when the app starts (its lifespan), which
    also creates the tables and seeds an empty database.

    Args:
        database_url: SQLAlchemy URL of the shop's database (SQLite or PostgreSQL);
            a SQLite file's directory is created when missing.
        token: When set, every route but ``/health`` requires
            ``Authorization: Bearer <token>``.

    Returns:
        The ASGI application, to run with uvicorn.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(database_url)
        try:
            await run_in_threadpool(prepare, engine)
            yield {"sessions": make_sessions(engine)}
        finally:
            engine.dispose()

    middleware = [Middleware(_BodyLimit, max_bytes=MAX_BODY_BYTES)]
    if token:
        middleware.insert(0, Middleware(_BearerAuth, token=token, open_paths=OPEN_PATHS))
    return Starlette(
        routes=ROUTES,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            DemoShopError: _on_shop_error,
            HTTPException: _on_http_error,
            OperationalError: _on_database_down,
            Exception: _on_crash,
        },
    )
