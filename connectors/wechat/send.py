"""Sending customer-service messages (``message/custom/send``) from the event loop.

The token stays wechatpy's business (:class:`~connectors.wechat.client.SharedTokenClient`
fetches it, rarely, in a thread, and keeps it in the shared session
storage). The send itself, a small JSON POST made for every reply, goes
through aiohttp on Rasa's event loop, like Telegram's
(:mod:`connectors.telegram.http`): through wechatpy's ``requests`` session it
took a thread per reply, which then fought Rasa's own work for the GIL, and
``requests`` re-reads the proxy settings and certificate paths from disk on
every call. At 16 concurrent conversations py-spy found that path in about a
tenth of the Rasa server's CPU samples (``docs/BENCHMARKS.md``).

What is retried is unchanged: a rejected token is replaced once, "system
busy" (-1) and network errors are retried :data:`RETRY_DELAYS_S` apart, and
every other refusal, 45015 (the 48-hour window closed) included, is final.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests
from wechatpy.exceptions import WeChatClientException

from connectors.database import run_quick
from connectors.wechat.client import REQUEST_TIMEOUT_S, SharedTokenClient, errcode_of

# invalid credential, invalid access_token, access_token expired
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
SYSTEM_BUSY = -1
# -1 and network errors only; every other refusal is final.
RETRY_DELAYS_S = (0.5, 1.5)
# WeChat's limit for a customer-service text is 2048 bytes.
MAX_TEXT_BYTES = 2000
# Shorter than any server's idle timeout we know of (uvicorn 5 s).
IDLE_CONNECTION_S = 4.0
POOL_SIZE = 64


@dataclass(frozen=True)
class SendResult:
    """How a send ended.

    Attributes:
        ok: WeChat accepted the message.
        errcode: WeChat's error code when it refused; None for network errors.
        errmsg: WeChat's error message, or the network error.
    """

    ok: bool
    errcode: int | None = None
    errmsg: str = ""


class CustomServiceSender:
    """Posts customer-service messages with the shared token, over one aiohttp session.

    Args:
        client: Fetches and stores the access token.
        local_store: The token is in a SQLite file, readable on the event loop.
        timeout_s: Timeout of each request.
        sleep: How to wait between retries (tests pass a faster one).
    """

    def __init__(
        self,
        client: SharedTokenClient,
        *,
        local_store: bool,
        timeout_s: float = REQUEST_TIMEOUT_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._local_store = local_store
        self._url = f"{client.API_BASE_URL}message/custom/send"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def send(self, payload: dict[str, Any]) -> SendResult:
        """Posts ``payload`` (``touser``, ``msgtype`` and its body) until it is settled."""
        token_refreshed = refresh_token = False
        retries = iter(RETRY_DELAYS_S)
        while True:
            errcode: int | None
            try:
                token = await self._token(refresh=refresh_token)
                refresh_token = False
                errcode, errmsg = await self._post(token, payload)
            except WeChatClientException as error:  # fetching the token was refused
                errcode, errmsg = errcode_of(error), str(error.errmsg or error)
            except (
                aiohttp.ClientError,
                asyncio.TimeoutError,
                requests.RequestException,
                ValueError,  # not WeChat's JSON
            ) as error:
                errcode, errmsg = None, f"{type(error).__name__}: {error}"
            if errcode == 0:
                return SendResult(ok=True)
            if errcode in TOKEN_ERRORS and not token_refreshed:
                token_refreshed = refresh_token = True
                continue
            if errcode not in (None, SYSTEM_BUSY):
                return SendResult(ok=False, errcode=errcode, errmsg=errmsg)
            delay = next(retries, None)
            if delay is None:
                return SendResult(ok=False, errcode=errcode, errmsg=errmsg)
            await self._sleep(delay)

    async def close(self) -> None:
        """Closes the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _token(self, *, refresh: bool) -> str:
        if not refresh:
            stored = await run_quick(self._local_store, self._client.stored_token)
            if stored:
                return stored
        # Rare: once per two hours, or when WeChat rejected the token.
        fetched = await asyncio.to_thread(self._client.fetch_access_token)
        return str(fetched["access_token"])

    async def _post(self, token: str, payload: dict[str, Any]) -> tuple[int | None, str]:
        """WeChat's ``errcode`` (0 when accepted) and ``errmsg``."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=IDLE_CONNECTION_S)
            self._session = aiohttp.ClientSession(connector=connector)
        body = json.dumps(payload, ensure_ascii=False).encode()
        async with self._session.post(
            self._url,
            params={"access_token": token},
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=self._timeout,
        ) as response:
            response.raise_for_status()
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError(f"unexpected answer: {answer!r}")
        errcode = int(answer.get("errcode") or 0)
        return errcode, str(answer.get("errmsg") or "")


def split_text(text: str) -> list[str]:
    """``text`` cut at line ends (inside a line only if need be) into pieces WeChat accepts."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > MAX_TEXT_BYTES:
            cut = len(line.encode()[:MAX_TEXT_BYTES].decode(errors="ignore"))
            pieces += [current, line[:cut]]
            current, line = "", line[cut:]
        if len((current + line).encode()) > MAX_TEXT_BYTES:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]
