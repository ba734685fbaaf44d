"""Reading a request body without ever holding more than a route's limit.

Every connector route that takes a body (the platforms' webhooks, the
outbound route, the web chat's feedback) is mounted with ``stream=True`` and
reads it here: a declared ``Content-Length`` over the limit is refused before
a byte is read, and a streamed body is refused as soon as it passes the limit.
"""

from __future__ import annotations

from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from connectors.errors import BodyTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, reading no further than ``limit`` bytes.

    Args:
        request: A request to a route mounted with ``stream=True`` (a body
            Sanic read already is accepted too).
        limit: The largest body accepted, in bytes.

    Raises:
        BodyTooLarge: The body is (or declares to be) over the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"Content-Length {declared}")
    stream = getattr(request, "stream", None)
    if request.body or stream is None:  # a route that read the body already
        body = bytes(request.body or b"")
        if len(body) > limit:
            raise BodyTooLarge(f"body over {limit} bytes")
        return body
    chunks: list[bytes] = []
    size = 0
    try:
        while (chunk := await stream.read()) is not None:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body over {limit} bytes")
            chunks.append(chunk)
    except PayloadTooLarge as error:
        raise BodyTooLarge(str(error)) from error
    return b"".join(chunks)
