"""The one bounded body reader every connector route uses (``connectors/body.py``).

A real Sanic server streams the bodies, so a declared ``Content-Length`` and a
chunked body without one are both refused with 413 before the limit is passed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.body import read_body
from connectors.errors import BodyTooLarge, RequestRefused
from tests.support.sanic_server import serve_sanic

LIMIT = 1024


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def serving() -> AsyncIterator[httpx.AsyncClient]:
    """A server whose ``POST /`` streams its body through :func:`read_body`."""
    app = Sanic(f"body_test_{uuid.uuid4().hex}")

    async def echo(request: Request) -> HTTPResponse:
        try:
            body = await read_body(request, LIMIT)
        except RequestRefused as error:
            return response.json({"error": str(error)}, status=error.status)
        return response.json({"size": len(body)})

    app.add_route(echo, "/", methods=["POST"], stream=True)
    async with serve_sanic(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield http


async def _chunks(size: int, chunk: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


async def test_a_body_within_the_limit_is_read_whole() -> None:
    async with serving() as http:
        declared = await http.post("/", content=b"x" * LIMIT)
        streamed = await http.post("/", content=_chunks(LIMIT))

    assert declared.json() == {"size": LIMIT}
    assert streamed.request.headers["transfer-encoding"] == "chunked"
    assert streamed.json() == {"size": LIMIT}


async def test_a_declared_oversized_body_is_refused_with_413() -> None:
    async with serving() as http:
        answer = await http.post("/", content=b"x" * (LIMIT + 1))

    assert answer.status_code == 413
    assert answer.json() == {"error": f"Content-Length {LIMIT + 1}"}


async def test_a_streamed_oversized_body_is_refused_with_413() -> None:
    async with serving() as http:
        answer = await http.post("/", content=_chunks(LIMIT * 4))

    assert answer.request.headers["transfer-encoding"] == "chunked"
    assert answer.status_code == 413
    assert answer.json() == {"error": f"body over {LIMIT} bytes"}


def test_refusals_carry_their_status() -> None:
    assert BodyTooLarge("x").status == 413
    assert RequestRefused("x").status == 400
    assert RequestRefused("x", 503).status == 503
