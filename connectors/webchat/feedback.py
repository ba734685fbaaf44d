"""The web chat's thumbs-down: ``POST /webhooks/webchat/feedback``.

The page sends ``{"session_id", "text", "rating": "down"}`` when the customer
marks a bot answer as unhelpful. The session id is the page's own secret (a
random 128-bit id kept in the browser), so it names the conversation. The
answer is looked up in the conversation's tracker (the page shows a bot
message split on blank lines, so ``text`` may be one part of it), and its
Rasa timestamp is forwarded to the handoff service's
``POST /api/internal/feedback`` with the service token; the service queues
the customer message that answer replied to for the trainers (reason
``thumbs_down``). The page never sees the token.

Answers: 202 queued; 400 malformed; 404 no such answer in the conversation;
413 too large; 503 the assistant is starting; 502 the handoff service refused
or could not be reached.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.body import read_body
from connectors.errors import RequestRefused
from connectors.routes import as_route
from connectors.webchat.parse import conversation_id, valid_session_id

logger = logging.getLogger(__name__)

MAX_FEEDBACK_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4096  # what the handoff service accepts
# The event broker may not have delivered the answer to the service yet when a
# quick customer clicks: a 404 is retried for this long.
NOT_YET_DELIVERED_RETRY_S = (0.25, 0.5, 1.0, 2.0)
FEEDBACK_PATH = "/feedback"


class FeedbackRefused(RequestRefused):
    """A feedback request that is answered with ``status`` (400 unless told)."""


@dataclass(frozen=True)
class Feedback:
    """A parsed thumbs-down."""

    session_id: str
    text: str


def parse_feedback(body: bytes) -> Feedback:
    """Reads the page's JSON body.

    Raises:
        FeedbackRefused: The body is not a thumbs-down on a text (400).
    """
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FeedbackRefused("the body is not JSON") from None
    if not isinstance(data, dict):
        raise FeedbackRefused("the body must be a JSON object")
    session_id = valid_session_id(data.get("session_id"))
    if session_id is None:
        raise FeedbackRefused("a valid session_id is required")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
        raise FeedbackRefused(f"text must be the answer's text (1 to {MAX_TEXT_CHARS} characters)")
    if data.get("rating") != "down":
        raise FeedbackRefused('rating must be "down"')
    return Feedback(session_id, text)


def answer_timestamp(events: list[dict[str, Any]], text: str) -> float | None:
    """The Rasa timestamp of the latest bot message showing ``text`` (whole or one part)."""
    wanted = text.strip()
    for event in reversed(events):
        said = event.get("text")
        if event.get("event") != "bot" or not isinstance(said, str):
            continue
        parts = [part.strip() for part in said.strip().split("\n\n")]
        if said.strip() == wanted or wanted in parts:
            timestamp = event.get("timestamp")
            return float(timestamp) if isinstance(timestamp, int | float) else None
    return None


async def forward(
    conversation: str, message_ts: float, *, handoff_url: str, token: str, timeout_s: float
) -> dict[str, Any]:
    """Sends the feedback to the handoff service; returns its answer.

    Raises:
        FeedbackRefused: 404 when the service knows no such answer, else 502.
    """
    url = f"{handoff_url.rstrip('/')}/api/internal/feedback"
    body = {"conversation_id": conversation, "message_ts": message_ts, "rating": "down"}
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            answer = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        logger.warning("thumbs-down not delivered to %s: %s", url, error)
        raise FeedbackRefused("the feedback could not be delivered", 502) from error
    if answer.status_code == 404:
        raise FeedbackRefused("no such answer in this conversation", 404)
    if answer.status_code != 201:
        logger.warning("thumbs-down refused by %s: %s %s", url, answer.status_code, answer.text)
        raise FeedbackRefused("the feedback could not be delivered", 502)
    result: dict[str, Any] = answer.json()
    return result


async def _forward_when_delivered(
    conversation: str, message_ts: float, *, handoff_url: str, token: str, timeout_s: float
) -> dict[str, Any]:
    for delay in (*NOT_YET_DELIVERED_RETRY_S, None):
        try:
            return await forward(
                conversation, message_ts, handoff_url=handoff_url, token=token, timeout_s=timeout_s
            )
        except FeedbackRefused as error:
            if error.status != 404 or delay is None:
                raise
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


class FeedbackRoute:
    """``POST /feedback`` on the web chat's blueprint.

    Args:
        handoff_url: The handoff service.
        token: Returns the service token (read when the first feedback comes,
            as the development token file may be created by the service).
        timeout_s: How long to wait for the handoff service.
    """

    def __init__(self, *, handoff_url: str, token: Callable[[], str], timeout_s: float) -> None:
        self._handoff_url = handoff_url
        self._token = token
        self._timeout_s = timeout_s

    def mount(self, blueprint: Blueprint) -> None:
        """Adds the route to the channel's blueprint."""

        blueprint.add_route(
            as_route(self.feedback),
            FEEDBACK_PATH,
            methods=["POST"],
            stream=True,
            name="webchat_feedback",
        )

    async def feedback(self, request: Request) -> HTTPResponse:
        """Queues the answer a customer marked unhelpful; see the module's answers."""
        try:
            body = await read_body(request, MAX_FEEDBACK_BYTES)
            parsed = parse_feedback(body)
            conversation = conversation_id(parsed.session_id)
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or agent.tracker_store is None:
                raise FeedbackRefused("the assistant is starting", 503)
            tracker = await agent.tracker_store.retrieve_full_tracker(conversation)
            events = [event.as_dict() for event in tracker.events] if tracker else []
            message_ts = answer_timestamp(events, parsed.text)
            if message_ts is None:
                raise FeedbackRefused("no such answer in this conversation", 404)
            answer = await _forward_when_delivered(
                conversation,
                message_ts,
                handoff_url=self._handoff_url,
                token=self._token(),
                timeout_s=self._timeout_s,
            )
        except RequestRefused as error:
            return response.json({"queued": False, "error": str(error)}, status=error.status)
        return response.json({"queued": bool(answer.get("queued"))}, status=202)
