"""A stand-in Telegram Bot API server on a local port, for tests.

It speaks the real wire format: ``POST /bot<token>/<method>`` with
parameters as a query string, form data or JSON (python-telegram-bot sends
form data, nested objects JSON-encoded; file uploads are not needed here), and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
"description": ...}``. It knows getMe, sendMessage, answerCallbackQuery,
setWebhook, deleteWebhook and sendChatAction, records every call in order,
and can be told to answer 429 with ``retry_after`` for the next N calls.
Listeners (benchmarks) are told of each call as it is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import serve_in_thread

# Parameters the Bot API takes as JSON-serialised objects inside form fields.
_JSON_PARAMETERS = {
    "reply_markup",
    "allowed_updates",
    "entities",
    "link_preview_options",
    "reply_parameters",
}


@dataclass(frozen=True)
class ApiCall:
    """One request the stand-in received.

    Attributes:
        method: The Bot API method (``sendMessage`` …).
        params: Its parameters; JSON-encoded objects decoded, the rest as sent.
        status: The HTTP status it was answered with.
        at: ``time.monotonic()`` when it arrived.
        client_port: The caller's port: calls on one kept-alive connection share it.
    """

    method: str
    params: dict[str, Any]
    status: int
    at: float
    client_port: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


@dataclass
class TelegramApi:
    """The stand-in's state: the bot, the recorded calls and the injected failures."""

    token: str
    bot_username: str = "shop_assistant_bot"
    base_url: str = ""
    _calls: list[ApiCall] = field(default_factory=list)
    _failures: list[tuple[str | None, int]] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _message_ids: int = 0
    _listeners: list[Callable[[ApiCall], None]] = field(default_factory=list)

    def listen(self, listener: Callable[[ApiCall], None]) -> None:
        """Calls ``listener`` with every call once recorded (in the server's thread)."""
        self._listeners.append(listener)

    @property
    def bot_id(self) -> int:
        """The bot's user id: the digits before the colon of its token."""
        return int(self.token.split(":", 1)[0])

    def fail_next(self, count: int, *, retry_after: int = 1, method: str | None = None) -> None:
        """Answers the next ``count`` calls (of ``method``, or any) with 429."""
        with self._lock:
            self._failures.extend([(method, retry_after)] * count)

    def calls(self, method: str | None = None, *, ok_only: bool = False) -> list[ApiCall]:
        """The calls received so far, in order."""
        with self._lock:
            return [
                call
                for call in self._calls
                if (method is None or call.method == method) and (call.ok or not ok_only)
            ]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of the messages delivered (sendMessage answered 200), in order."""
        return [
            str(call.params["text"])
            for call in self.calls("sendMessage", ok_only=True)
            if chat_id is None or str(call.params.get("chat_id")) == str(chat_id)
        ]

    def wait_for(
        self, check: Callable[[TelegramApi], bool], *, timeout_s: float = 10, what: str = ""
    ) -> None:
        """Blocks until ``check(self)`` holds (after any call), or fails."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not check(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"stand-in Bot API: {what or 'condition'} not met: {self._calls}"
                    )
                self._lock.wait(min(left, 0.2))

    def _record(
        self, method: str, params: dict[str, Any], status: int, client_port: int | None = None
    ) -> None:
        call = ApiCall(method, params, status, time.monotonic(), client_port)
        with self._lock:
            self._calls.append(call)
            self._lock.notify_all()
        for listener in self._listeners:
            listener(call)

    def _take_failure(self, method: str) -> int | None:
        with self._lock:
            for index, (only, retry_after) in enumerate(self._failures):
                if only is None or only == method:
                    del self._failures[index]
                    return retry_after
        return None

    def _next_message_id(self) -> int:
        with self._lock:
            self._message_ids += 1
            return self._message_ids

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Shop Assistant",
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self._bot_user()
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            message: dict[str, Any] = {
                "message_id": self._next_message_id(),
                "from": self._bot_user(),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "date": int(time.time()),
                "text": params["text"],
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook", "sendChatAction"):
            return True
        raise LookupError(method)


async def _parameters(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        params |= json.loads(body) if body else {}
        return params
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Parsed by hand: starlette's form parser needs python-multipart.
        params |= dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    for name in _JSON_PARAMETERS & params.keys():
        if isinstance(params[name], str):
            params[name] = json.loads(params[name])
    return params


def _error(status: int, description: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description, **extra}, status_code=status
    )


def create_app(api: TelegramApi) -> Starlette:
    """The Bot API routes over ``api``'s state."""

    async def call(request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        params = await _parameters(request)
        port = request.client.port if request.client else None
        if token != api.token:
            api._record(method, params, 401, port)
            return _error(401, "Unauthorized")
        retry_after = api._take_failure(method)
        if retry_after is not None:
            api._record(method, params, 429, port)
            return _error(
                429,
                f"Too Many Requests: retry after {retry_after}",
                parameters={"retry_after": retry_after},
            )
        try:
            result = api._result(method, params)
        except LookupError:
            api._record(method, params, 404, port)
            return _error(404, "Not Found")
        api._record(method, params, 200, port)
        return JSONResponse({"ok": True, "result": result})

    return Starlette(routes=[Route("/bot{token}/{method}", call, methods=["GET", "POST"])])


@contextmanager
def running_telegram_api(token: str) -> Iterator[TelegramApi]:
    """Runs the stand-in under uvicorn in a thread; yields it with ``base_url`` set."""
    api = TelegramApi(token=token)
    with serve_in_thread(create_app(api), what="the stand-in Bot API", lifespan="off") as url:
        api.base_url = url
        yield api
