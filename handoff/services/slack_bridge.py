"""Optional Slack integration (slack-bolt): a thread per handoff, replies to the customer.

On only when ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and ``SLACK_CHANNEL``
are set. Each handoff posts a message with *Claim* and *Resolve* buttons to
``SLACK_CHANNEL``; the customer's messages follow in its thread; a person's
reply in the thread goes to the customer as an agent turn. A Slack user acts
as the inbox account with the same username. Slack's inbound route,
``/slack/events`` (:mod:`handoff.api.routes.slack`), checks Slack's signature
with this bridge's verifier (403), acknowledges at once (bolt answers before
the listeners run) and skips deliveries whose ``event_id`` the bridge has
already seen (Slack's retries).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import Redis
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import events
from handoff.errors import HandoffError
from handoff.models import Agent, SlackThread
from handoff.services.conversations import ConversationService
from handoff.settings import Settings

logger = logging.getLogger(__name__)

CLAIM = "handoff_claim"
RESOLVE = "handoff_resolve"
SEEN_TTL_S = 3600


def escape(text: str | None) -> str:
    """Slack's three control characters, so customer text is never markup in Slack."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _figure(value: Any, unit: Any) -> str:
    number = float(value or 0.0)
    return f"{number:.1%}" if unit == "rate" else f"{number:.1f} s"


def alert_text(alert: dict[str, Any], *, cleared: bool = False) -> str:
    """An alert as a Slack message (mrkdwn; conversation ids escaped)."""
    if alert.get("kind") == "target_missed":
        name = escape(str(alert.get("name") or alert.get("target")))
        value = _figure(alert.get("value"), alert.get("unit"))
        goal = _figure(alert.get("goal"), alert.get("unit"))
        sign = "≤" if alert.get("direction") == "max" else "≥"
        if cleared:
            return f":white_check_mark: Back within target: {name} {value} (target {sign} {goal})."
        return (
            f":chart_with_downwards_trend: Target missed over the last {alert.get('hours')} h:"
            f" {name} {value} (target {sign} {goal})."
        )
    if alert.get("kind") == "long_wait":
        minutes = int(alert.get("wait_s") or 0) // 60
        return (
            f":hourglass: Conversation {escape(str(alert.get('conversation_id')))} has waited"
            f" {minutes} min for an agent."
        )
    rate = float(alert.get("rate") or 0.0)
    baseline = float(alert.get("baseline") or 0.0)
    return (
        f":warning: The bot's fallback rate today is {rate:.0%}"
        f" (usual: {baseline:.0%}): it misunderstands more than usual."
    )


class _SeenEvents:
    """Event ids already processed: Redis ``SET NX`` when shared, else in-process."""

    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "slack:event:"
        self._local: dict[str, float] = {}

    async def first_time(self, event_id: str) -> bool:
        if self._redis is not None:
            return bool(await self._redis.set(self._prefix + event_id, "1", nx=True, ex=SEEN_TTL_S))
        now = time.monotonic()
        self._local = {k: t for k, t in self._local.items() if now - t < SEEN_TTL_S}
        if event_id in self._local:
            return False
        self._local[event_id] = now
        return True


class SlackBridge:
    """Mirrors handoffs into Slack threads and turns Slack actions into inbox actions."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        conversations: ConversationService,
        redis: Redis | None,
        client: AsyncWebClient,
    ) -> None:
        assert settings.slack_signing_secret is not None and settings.slack_channel
        secret = settings.slack_signing_secret.get_secret_value()
        self._sessions = sessions
        self._conversations = conversations
        self._channel = settings.slack_channel
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self.verifier = SignatureVerifier(secret)
        self.seen = _SeenEvents(redis, settings.handoff_redis_prefix)
        self.app = AsyncApp(client=client, signing_secret=secret, process_before_response=False)
        self.app.action(CLAIM)(self._on_claim)
        self.app.action(RESOLVE)(self._on_resolve)
        self.app.event("message")(self._on_message)
        self.handler = AsyncSlackRequestHandler(self.app)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        conversations: ConversationService,
        redis: Redis | None,
    ) -> SlackBridge:
        """The bridge with a Web API client (``SLACK_API_URL`` overrides Slack's address)."""
        assert settings.slack_bot_token is not None
        kwargs: dict[str, Any] = {}
        if settings.slack_api_url:
            kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
        client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), **kwargs)
        return cls(
            settings=settings,
            sessions=sessions,
            conversations=conversations,
            redis=redis,
            client=client,
        )

    async def aclose(self) -> None:
        """Waits briefly for Slack calls in flight."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    # -- inbox → Slack -------------------------------------------------------------------

    async def on_event(self, event: dict[str, Any]) -> None:
        """Bus listener: Slack calls run in the background, never delaying the inbox."""
        task = asyncio.create_task(self._mirror(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _mirror(self, event: dict[str, Any]) -> None:
        try:
            if event["type"] in (events.ALERT_RAISED, events.ALERT_CLEARED):
                cleared = event["type"] == events.ALERT_CLEARED
                await self._client.chat_postMessage(
                    channel=self._channel, text=alert_text(event["alert"], cleared=cleared)
                )
                return
            conversation = event["conversation"]
            cid = conversation["id"]
            if event["type"] == events.HANDED_OFF:
                await self._open_thread(conversation)
                return
            thread = await self._thread(cid)
            if thread is None:
                return
            message = event.get("message") or {}
            if event["type"] == events.MESSAGE_CREATED and message.get("role") == "customer":
                text = f"*Customer:* {escape(message.get('text'))}"
            elif event["type"] == events.ASSIGNED:
                text = f"Assigned to {escape(conversation.get('assignee'))}"
            elif event["type"] == events.RESOLVED:
                text = "Resolved; the customer is asked for a rating."
            elif event["type"] == events.HANDED_BACK:
                text = "Handed back to the bot."
            else:
                return
            await self._client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.thread_ts, text=text
            )
        except Exception:
            logger.exception("could not mirror %s to Slack", event.get("type"))

    async def _open_thread(self, conversation: dict[str, Any]) -> None:
        cid = conversation["id"]
        summary = (
            f"*New handoff* `{escape(cid)}` ({escape(conversation.get('channel'))}) "
            f"reason: {escape(conversation.get('reason'))}, team: "
            f"{escape(conversation.get('team'))}"
            + (" :rotating_light: urgent" if conversation.get("urgent") else "")
            + (f"\n>{escape(conversation.get('summary'))}" if conversation.get("summary") else "")
        )
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": CLAIM,
                        "value": cid,
                        "text": {"type": "plain_text", "text": "Claim"},
                    },
                    {
                        "type": "button",
                        "action_id": RESOLVE,
                        "value": cid,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Resolve"},
                    },
                ],
            },
        ]
        response = await self._client.chat_postMessage(
            channel=self._channel, text=summary, blocks=blocks
        )
        async with self._sessions.begin() as session:
            thread = await session.get(SlackThread, cid)
            if thread is None:
                session.add(
                    SlackThread(
                        conversation_id=cid, channel=response["channel"], thread_ts=response["ts"]
                    )
                )
            else:
                thread.channel, thread.thread_ts = response["channel"], response["ts"]

    async def _thread(self, cid: str) -> SlackThread | None:
        async with self._sessions() as session:
            return await session.get(SlackThread, cid)

    # -- Slack → inbox -------------------------------------------------------------------

    async def _agent(self, user_id: str | None, username: str | None) -> Agent | None:
        if username is None and user_id:
            info = await self._client.users_info(user=user_id)
            username = (info.get("user") or {}).get("name")
        if not username:
            return None
        async with self._sessions() as session:
            return await session.scalar(select(Agent).where(Agent.username == username))

    async def _on_claim(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await self._act(body, respond, claim=True)

    async def _on_resolve(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await self._act(body, respond, claim=False)

    async def _act(self, body: dict[str, Any], respond: Any, *, claim: bool) -> None:
        user = body.get("user") or {}
        cid = (body.get("actions") or [{}])[0].get("value")
        agent = await self._agent(user.get("id"), user.get("username") or user.get("name"))
        if agent is None or not cid:
            await respond(
                text="No inbox account has your Slack username.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        try:
            if claim:
                await self._conversations.assign(cid, actor=agent)
            else:
                await self._conversations.resolve(cid, agent=agent)
        except HandoffError as error:
            await respond(
                text=f"Not done: {escape(str(error))}",
                response_type="ephemeral",
                replace_original=False,
            )

    async def _on_message(self, event: dict[str, Any]) -> None:
        if event.get("subtype") or event.get("bot_id") or not event.get("thread_ts"):
            return  # only people's replies inside a handoff thread
        async with self._sessions() as session:
            thread = await session.scalar(
                select(SlackThread).where(
                    SlackThread.channel == event.get("channel"),
                    SlackThread.thread_ts == event["thread_ts"],
                )
            )
        if thread is None:
            return
        agent = await self._agent(event.get("user"), None)
        if agent is None:
            await self._client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text="Not sent: no inbox account has your Slack username.",
            )
            return
        try:
            await self._conversations.post_message(
                thread.conversation_id, agent=agent, text=str(event.get("text") or "")
            )
        except HandoffError as error:
            await self._client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=f"Not sent: {escape(str(error))}",
            )
