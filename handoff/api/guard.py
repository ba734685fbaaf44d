"""Body-size limit and security headers for every HTTP response, as plain ASGI.

A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs each request in an extra task and streams the
response through a memory channel, which cost a noticeable share of the CPU of
a small request (bench/handoff_latency.py). WebSockets pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Event-broker batches may be larger than anything an agent sends.
INTERNAL_BODY_FACTOR = 10
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; media-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CSP),
)


class GuardMiddleware:
    """413 for a declared body over the limit; security headers unless a route set its own."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self._app = app
        self._limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, send_with_headers)
