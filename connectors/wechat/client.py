"""Talking to WeChat's API: one shared access token, and the rules of sending.

wechatpy's :class:`~wechatpy.WeChatClient` fetches the token. Two things
are changed: every URL, the token's included, starts at the configured base
URL (a proxy, or the stand-in server of the tests); and the token lives only
in the shared session storage, fetched under a lock, so replicas do not
invalidate each other's. The messages themselves leave through
:mod:`connectors.wechat.send`, which holds the rules of sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
REQUEST_TIMEOUT_S = 5.0
# Stored tokens expire this much before WeChat's expiry, so none is used stale.
TOKEN_MARGIN_S = 300


class _TimeoutAdapter(HTTPAdapter):
    # wechatpy fetches the token without a timeout; no request may hang forever.
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout_s if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


class SharedTokenClient(WeChatClient):
    """wechatpy's client on a configurable base URL, with one token for every process.

    Args:
        app_id: The Official Account's AppID.
        app_secret: Its AppSecret.
        api_base_url: ``https://api.weixin.qq.com``, or a proxy in front of it.
        session: Shared session storage (Redis or the database).
        token_lock: Makes fetching the token exclusive across processes.
        timeout_s: Timeout of every HTTP request.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        api_base_url: str,
        session: SessionStorage,
        token_lock: Callable[[], AbstractContextManager[object]],
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> None:
        super().__init__(app_id, app_secret, session=session, timeout=timeout_s, auto_retry=False)
        base = api_base_url.rstrip("/")
        # wechatpy joins API_BASE_URL with each endpoint, but fetches the
        # token from a fixed URL: both are pointed at the configured base.
        self.API_BASE_URL = f"{base}/cgi-bin/"
        self._token_url = f"{base}/cgi-bin/token"
        self._token_lock = token_lock
        adapter = _TimeoutAdapter(timeout_s)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    @property
    def access_token(self) -> str:
        """The shared token; fetched only when no process has a valid one."""
        return self.stored_token() or str(self.fetch_access_token()["access_token"])

    def stored_token(self) -> str | None:
        """The token in the shared storage, if a process stored a valid one."""
        token = self.session.get(self.access_token_key)
        return str(token) if token else None

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetches a new token, unless another process did while we waited for the lock.

        Returns:
            WeChat's answer (``access_token``, ``expires_in``), or the token
            another process stored meanwhile.

        Raises:
            WeChatClientException: WeChat refused (wrong secret, IP not allowed …).
            requests.RequestException: WeChat could not be reached.
        """
        seen = self.session.get(self.access_token_key)
        with self._token_lock():
            current = self.session.get(self.access_token_key)
            if current and current != seen:
                return {"access_token": current}
            logger.info("fetching a WeChat access token for %s", self.appid)
            response = self._http.get(
                self._token_url,
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
            response.raise_for_status()
            result = self._handle_result(response)
            if not isinstance(result, dict) or not result.get("access_token"):
                raise WeChatClientException(None, "no access_token in the answer", client=self)
            expires_in = int(result.get("expires_in") or 7200)
            ttl = max(expires_in - TOKEN_MARGIN_S, 60)
            self.session.set(self.access_token_key, result["access_token"], ttl)
            return result


def errcode_of(error: WeChatClientException) -> int | None:
    """WeChat's error code in ``error``, None when it carries none (a network error)."""
    try:
        return int(error.errcode) if error.errcode is not None else None
    except (TypeError, ValueError):
        return None
