"""Slack's inbound route, ``POST /slack/events`` (only mounted when Slack is configured).

Checks Slack's signature (403), acknowledges retries of deliveries already
handled, and hands the rest to the :class:`~handoff.services.slack_bridge.SlackBridge`
the app's lifespan built (``app.state.slack``).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response, status

from handoff.services.slack_bridge import SlackBridge

router = APIRouter(tags=["slack"])


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    """Slack's Events API and interactivity endpoint."""
    bridge: SlackBridge | None = request.app.state.slack
    if bridge is None:
        return Response(status_code=status.HTTP_404_NOT_FOUND)
    body = await request.body()
    if not bridge.verifier.is_valid_request(body, dict(request.headers)):
        return Response("invalid signature", status_code=status.HTTP_403_FORBIDDEN)
    event_id = _event_id(request, body)
    if event_id is not None and not await bridge.seen.first_time(event_id):
        # A retry (X-Slack-Retry-Num) of something already handled: acknowledge only.
        return Response(status_code=status.HTTP_200_OK, headers={"X-Slack-No-Retry": "1"})
    response: Response = await bridge.handler.handle(request)
    return response


def _event_id(request: Request, body: bytes) -> str | None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    event_id = parsed.get("event_id") if isinstance(parsed, dict) else None
    return event_id if isinstance(event_id, str) else None
