"""Body-size limit, security and cache headers for every HTTP response, as plain ASGI.

A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs each request in an extra task and streams the
response through a memory channel, which cost a noticeable share of the CPU of
a small request (bench/handoff_latency.py). WebSockets pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Event-broker batches may be larger than anything an agent sends.
INTERNAL_BODY_FACTOR = 10
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Production runs behind TLS: browsers must never fall back to plain HTTP.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CSP),
)


class BodyTooLarge(HTTPException):
    """The body grew past the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that counts body bytes and stops the request once past ``limit``.

    ``Content-Length`` alone is not enough: a chunked body declares no length,
    and without this check it was read whole into memory.
    """
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counting


class GuardMiddleware:
    """413 for a body over the limit (declared or streamed); security and cache headers."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, production: bool = False) -> None:
        self._app = app
        self._limit = max_body_bytes
        self._headers = SECURITY_HEADERS + ((HSTS,) if production else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if "\x00" in str(scope["path"]) or b"%00" in bytes(scope.get("query_string", b"")):
            # No id, name or filter holds a NUL; PostgreSQL cannot even compare one.
            refusal = JSONResponse(status_code=400, content={"detail": "NUL in the URL"})
            await refusal(scope, receive, send)
            return
        internal = str(scope["path"]).startswith("/api/internal/")
        allowed = self._limit * (INTERNAL_BODY_FACTOR if internal else 1)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > allowed):
            refusal = JSONResponse(
                status_code=413, content={"detail": f"the body is larger than {allowed} bytes"}
            )
            await refusal(scope, receive, send)
            return

        api = str(scope["path"]).startswith("/api/")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self._headers:
                    headers.setdefault(name, value)
                if api:
                    # Answers carry customers' data: never kept by browsers or proxies.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self._app(scope, _limited(receive, allowed), send_with_headers)
        except BodyTooLarge as error:
            if started:
                raise
            refusal = JSONResponse(status_code=413, content={"detail": error.detail})
            await refusal(scope, receive, send_with_headers)
