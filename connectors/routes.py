"""Routes that are methods of a class, mounted on a connector's Sanic blueprint."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def as_route(method: Handler) -> Handler:
    """A plain function that calls ``method`` (a bound method), for ``add_route``.

    Sanic marks a route's handler with attributes (its blueprint, whether it
    streams), which a bound method cannot take.
    """

    @functools.wraps(method)
    async def route(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        return await method(request, *args, **kwargs)

    return route
