"""python-telegram-bot's Bot API calls over aiohttp instead of httpx.

python-telegram-bot lets an application bring its own HTTP client through
:class:`telegram.request.BaseRequest`; its maintainers keep an aiohttp one
in ``ptbcontrib``, which is not on PyPI, so this is ours. Why not httpx, the
default: every Bot API call runs inside Rasa's event loop, next to the NLU
and policies of every other conversation. On a busy loop a request through
httpx (httpcore, anyio) reaches the socket about twice as late as one
through aiohttp, because it yields to the loop about twice as often before
writing, and it costs nearly three times the CPU (``bench/bot_api_client.py``).
On a saturated server each yield waits behind everyone else's work, which
made Telegram answers at 16 concurrent conversations about 1.4 times slower
than Rasa's REST channel (``bench/connector_latency.py``; both in
``docs/BENCHMARKS.md``). aiohttp is already in the environment: Rasa uses it
for its own HTTP calls.

Idle connections are dropped well before a server would close them (4 s
against uvicorn's 5 s, nginx's 75 s), so a request is never written into a
connection the server has just closed: such a request fails, and
:mod:`connectors.telegram.send` does not retry it blind, since it may have
been delivered.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# python-telegram-bot's own defaults for its httpx client.
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 5.0
DEFAULT_POOL_TIMEOUT_S = 1.0
DEFAULT_POOL_SIZE = 256
# Shorter than any server's idle timeout we know of (uvicorn 5 s).
DEFAULT_IDLE_CONNECTION_S = 4.0


def _given(value: Any, default: float | None) -> float | None:
    """A timeout argument, or the default when python-telegram-bot passed none."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """Bot API requests through one aiohttp session, opened by :meth:`initialize`.

    Args:
        pool_size: Connections open at once (one per chat being answered).
        connect_timeout_s: Longest wait to open a connection.
        read_timeout_s: Longest wait for a byte of the answer.
        pool_timeout_s: Longest wait for a free connection.
        idle_connection_s: An unused connection is closed after this long.
    """

    def __init__(
        self,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
        idle_connection_s: float = DEFAULT_IDLE_CONNECTION_S,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._pool_timeout_s = pool_timeout_s
        self._idle_connection_s = idle_connection_s
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call names none."""
        return self._read_timeout_s

    async def initialize(self) -> None:
        """Opens the session (in the running loop); a second call does nothing."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, keepalive_timeout=self._idle_connection_s
            )
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; python-telegram-bot reads the status and body.

        aiohttp has no write timeout; ``write_timeout`` is ignored (Bot API
        requests here are a few kilobytes).

        Raises:
            TimedOut: No connection, or no answer, in time.
            NetworkError: The connection failed.
            RuntimeError: :meth:`initialize` was not called.
        """
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest used before initialize()")
        timeout = aiohttp.ClientTimeout(
            connect=_given(pool_timeout, self._pool_timeout_s),
            sock_connect=_given(connect_timeout, self._connect_timeout_s),
            sock_read=_given(read_timeout, self._read_timeout_s),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:
            raise TimedOut(f"Bot API request timed out: {type(error).__name__}") from error
        except aiohttp.ClientError as error:
            what = f"{type(error).__name__}: {error}"
            raise NetworkError(f"Bot API request failed: {what}") from error


def _body(request_data: RequestData | None) -> dict[str, str] | None:
    """The parameters, sent as a form (each object JSON-encoded, as Telegram expects).

    Raises:
        ValueError: The call uploads a file; this connector sends none.
    """
    if request_data is None:
        return None
    if request_data.contains_files:
        raise ValueError("file uploads are not supported: the connector sends text only")
    return request_data.json_parameters
