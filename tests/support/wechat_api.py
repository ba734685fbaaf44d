"""A stand-in for WeChat's API server on a local port, speaking its wire format.

It answers the two calls the connector makes, as documented by WeChat:
``GET /cgi-bin/token`` (``{"access_token", "expires_in"}`` or an error) and
``POST /cgi-bin/message/custom/send?access_token=…`` (``{"errcode": 0,
"errmsg": "ok"}``). Tests tell it to refuse sends (45015, -1 …) and read back
what it received (each send timestamped) and how many tokens were fetched;
listeners (benchmarks) are told of each send as it is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto

from tests.support.servers import serve_in_thread

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wechat"

# The errmsg WeChat sends with each code (as seen in its global return codes).
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40125: "invalid appsecret",
    41001: "access_token missing",
    45015: "response out of time limit or subscription is canceled",
    47001: "data format error",
}


def _error(errcode: int) -> JSONResponse:
    rid = secrets.token_hex(4)
    return JSONResponse(
        {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')} rid: {rid}"}
    )


@dataclass(frozen=True)
class SendAttempt:
    """One call of message/custom/send, what it was answered and when (``time.monotonic()``)."""

    access_token: str
    body: dict[str, Any]
    errcode: int
    at: float = field(default_factory=time.monotonic)


class WeChatApi:
    """The stand-in's state: issued tokens, scripted answers, what was received."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.url = ""
        self.token_fetches = 0
        self.attempts: list[SendAttempt] = []
        self._tokens: set[str] = set()
        self._answers: deque[int] = deque()
        self._listeners: list[Callable[[SendAttempt], None]] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/token", self._token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self._send, methods=["POST"]),
            ]
        )

    def listen(self, listener: Callable[[SendAttempt], None]) -> None:
        """Calls ``listener`` with every send once recorded (in the server's thread)."""
        self._listeners.append(listener)

    def answer_next(self, *errcodes: int) -> None:
        """The next sends get these errcodes, in order (0 = accepted)."""
        with self._lock:
            self._answers.extend(errcodes)

    def revoke_tokens(self) -> None:
        """Every token issued so far is now rejected with 40001."""
        with self._lock:
            self._tokens.clear()

    def delivered(self, openid: str | None = None) -> list[dict[str, Any]]:
        """The messages accepted (errcode 0), optionally to one openid."""
        with self._lock:
            return [
                a.body
                for a in self.attempts
                if a.errcode == 0 and (openid is None or a.body.get("touser") == openid)
            ]

    def texts(self, openid: str | None = None) -> list[str]:
        """The contents of the text messages accepted."""
        return [m["text"]["content"] for m in self.delivered(openid) if m.get("msgtype") == "text"]

    def wait_for(self, check: Callable[[], bool], *, timeout_s: float = 10) -> None:
        """Polls ``check`` until it holds; fails with what was received."""
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not received in {timeout_s} s; got {self.attempts}")
            time.sleep(0.02)

    async def _token(self, request: Request) -> JSONResponse:
        params = request.query_params
        if params.get("grant_type") != "client_credential" or params.get("appid") != self.app_id:
            return _error(40013)
        if params.get("secret") != self.app_secret:
            return _error(40125)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self.token_fetches += 1
            self._tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    async def _send(self, request: Request) -> JSONResponse:
        token = request.query_params.get("access_token", "")
        if not token:
            return _error(41001)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(47001)
        with self._lock:
            if token not in self._tokens:
                errcode = 40001
            else:
                errcode = self._answers.popleft() if self._answers else 0
            attempt = SendAttempt(token, body, errcode)
            self.attempts.append(attempt)
        for listener in self._listeners:
            listener(attempt)
        if errcode:
            return _error(errcode)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


@contextmanager
def running_wechat_api(
    *, app_id: str = "wx0123456789abcdef", app_secret: str = "s" * 32
) -> Iterator[WeChatApi]:
    """Runs the stand-in under uvicorn in a thread; ``api.url`` is its base URL."""
    api = WeChatApi(app_id, app_secret)
    with serve_in_thread(api.app, what="the WeChat stand-in") as url:
        api.url = url
        yield api


def push(name: str, **fields: str) -> str:
    """A documented payload from ``tests/fixtures/wechat/``, some fields changed.

    ``push("text.xml", Content="你好", MsgId="42")`` replaces the text of
    those elements, so tests can send distinct messages of a real shape.
    """
    xml = (FIXTURES / name).read_text(encoding="utf-8")
    for element, value in fields.items():

        def replace(match: re.Match[str], value: str = value, element: str = element) -> str:
            cdata = match.group(1).startswith("<![CDATA[")
            inner = f"<![CDATA[{value}]]>" if cdata else value
            return f"<{element}>{inner}</{element}>"

        xml, count = re.subn(rf"<{element}>(.*?)</{element}>", replace, xml, flags=re.S)
        assert count == 1, f"{name} has no <{element}>"
    return xml


def _sha1_sorted(*parts: str) -> str:
    # WeChat's signature: SHA-1 of the parts sorted and concatenated.
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query(
    token: str, *, timestamp: str | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The query WeChat adds to each request: ``signature``, ``timestamp``, ``nonce``."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**10))
    return {
        "signature": _sha1_sorted(token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def encrypted_push(
    xml: str, *, token: str, aes_key: str, app_id: str, account: str = "toUser"
) -> tuple[str, dict[str, str]]:
    """A safe-mode push of ``xml``: the body and the query WeChat would send.

    The message is encrypted with wechatpy's :class:`WeChatCrypto` (WeChat's
    algorithm); the body has WeChat's safe-mode shape, ``ToUserName`` and
    ``Encrypt``, and ``msg_signature`` signs the ciphertext.
    """
    query = signed_query(token)
    envelope = WeChatCrypto(token, aes_key, app_id).encrypt_message(
        xml, query["nonce"], query["timestamp"]
    )
    match = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope)
    assert match, envelope
    encrypt = match.group(1)
    body = (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    query |= {
        "encrypt_type": "aes",
        "msg_signature": _sha1_sorted(token, query["timestamp"], query["nonce"], encrypt),
    }
    return body, query
