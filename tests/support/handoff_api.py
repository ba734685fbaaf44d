"""A recording stand-in for the handoff service's internal API, on a local port.

It speaks the routes the Rasa side calls (see the handoff design):
``POST /api/internal/handoffs`` (answered with a scripted queue ticket),
``POST /api/internal/events`` (answered 202) and ``POST /api/internal/feedback``
(answered 201, queued). Every request is recorded with
its headers and JSON body; tests can script the next answers (a status, a
body, a delay) to play a service that is down, slow or refusing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import serve_in_thread

TOKEN = "handoff-service-token-for-tests"
QUEUED = {
    "status": "pending",
    "queue_position": 2,
    "expected_wait_s": 240,
    "agents_online": 3,
    "business_hours_open": True,
    "next_open_at": None,
}


@dataclass(frozen=True)
class Received:
    """One request the stand-in received."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Answer:
    """A scripted answer: status, JSON body, and a delay before it."""

    status: int
    body: Any = None
    delay_s: float = 0.0


@dataclass
class HandoffApi:
    """The stand-in's state."""

    token: str = TOKEN
    url: str = ""
    ticket: dict[str, Any] = field(default_factory=lambda: dict(QUEUED))
    requests: list[Received] = field(default_factory=list)
    _answers: deque[Answer] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self, *answers: Answer) -> None:
        """The next requests (any route) get these answers, in order."""
        with self._lock:
            self._answers.extend(answers)

    def received(self, path: str) -> list[Any]:
        """JSON bodies received on ``path`` and accepted, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == path]

    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order."""
        return [e for body in self.received("/api/internal/events") for e in body["events"]]

    def wait_for(self, check: Callable[[], bool], *, timeout_s: float = 10) -> None:
        """Polls ``check`` until it holds; fails with what was received."""
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not received in {timeout_s} s; got {self.requests}")
            time.sleep(0.02)

    def _next_answer(self) -> Answer | None:
        with self._lock:
            return self._answers.popleft() if self._answers else None

    def _record(self, request: Request, body: Any) -> None:
        with self._lock:
            self.requests.append(Received(request.url.path, dict(request.headers), body))


def create_app(api: HandoffApi) -> Starlette:
    """The internal routes over ``api``'s state."""

    async def handle(request: Request) -> JSONResponse:
        raw = await request.body()
        answer = api._next_answer()
        if answer is not None:
            await asyncio.sleep(answer.delay_s)
            if answer.status >= 300:
                return JSONResponse(answer.body or {"detail": "scripted"}, answer.status)
        if request.headers.get("authorization") != f"Bearer {api.token}":
            return JSONResponse({"detail": "forbidden"}, 403)
        body = json.loads(raw)
        api._record(request, body)
        if request.url.path.endswith("/handoffs"):
            ticket = answer.body if answer and answer.body is not None else api.ticket
            return JSONResponse(ticket, 201)
        if request.url.path.endswith("/feedback"):
            return JSONResponse({"queued": True, "annotation_id": len(api.requests)}, 201)
        return JSONResponse({"accepted": len(body.get("events", []))}, 202)

    return Starlette(
        routes=[
            Route("/api/internal/handoffs", handle, methods=["POST"]),
            Route("/api/internal/events", handle, methods=["POST"]),
            Route("/api/internal/feedback", handle, methods=["POST"]),
        ]
    )


@contextmanager
def running_handoff_api(token: str = TOKEN) -> Iterator[HandoffApi]:
    """Runs the stand-in under uvicorn in a thread; ``api.url`` is its base URL."""
    api = HandoffApi(token=token)
    with serve_in_thread(create_app(api), what="the handoff stand-in", lifespan="off") as url:
        api.url = url
        yield api
