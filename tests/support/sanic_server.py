"""A Sanic app served in the test's own event loop, as Rasa serves its channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sanic import Sanic

from tests.support.processes import free_port


@asynccontextmanager
async def serve_sanic(app: Sanic, *, listeners: bool = True) -> AsyncIterator[str]:
    """Serves ``app`` on a free loopback port; yields its base URL.

    Args:
        app: The app, with blueprints mounted as Rasa mounts them.
        listeners: Whether to run the app's start and stop listeners too.
    """
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    if listeners:
        await server.before_start()
        await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if listeners:
            await server.before_stop()
        server.close()
        await server.wait_closed()
        if listeners:
            await server.after_stop()
