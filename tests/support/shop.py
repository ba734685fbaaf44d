"""The real demo shop, under uvicorn in a thread, for tests that need a shop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from demo_shop.app import create_app
from tests.support.servers import serve_in_thread


@contextmanager
def running_shop(*, database_url: str, token: str | None = None) -> Iterator[str]:
    """Runs the real app under uvicorn in a thread; yields its base URL."""
    app = create_app(database_url=database_url, token=token)
    with serve_in_thread(app, what="the demo shop", lifespan="on") as url:
        yield url
