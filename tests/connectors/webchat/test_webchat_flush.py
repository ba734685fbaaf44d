"""A web chat reply leaves as soon as Rasa produces it, on Rasa's own event loop (uvloop)."""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop
from rasa.core.channels.channel import UserMessage

from connectors.webchat.channel import WebChatInput
from tests.connectors.webchat.test_webchat_channel import (  # noqa: F401 (fixtures)
    _sanic_test_mode,
    channel,
    clients,
    serve,
)

# How long "Rasa" works on the message before its reply.
THINKING_S = 0.05
# How long the rest of the turn then holds the event loop.
TURN_WORK_S = 0.5


@pytest.fixture
def event_loop_policy() -> uvloop.EventLoopPolicy:
    # Rasa's server runs on uvloop; when a queued packet is written depends
    # on the loop's order of callbacks.
    return uvloop.EventLoopPolicy()


def _first_reply_at(url: str) -> float:
    """In a thread with its own event loop: says hello, returns when the reply came."""

    async def play() -> float:
        async with clients(url) as (client,):
            session_id = await client.session()
            await client.say({"message": "hello", "session_id": session_id})
            await client.next("bot_uttered")
            return time.monotonic()

    return asyncio.run(play())


async def test_a_reply_leaves_at_once_not_when_rasa_is_done_with_the_turn(
    channel: WebChatInput,  # noqa: F811 (the fixture)
) -> None:
    work_done_at: list[float] = []

    async def reply_then_finish_the_turn(message: UserMessage) -> None:
        await asyncio.sleep(THINKING_S)  # NLU and the policies; the socket is idle
        await message.output_channel.send_text_message(message.sender_id, "马上就好")
        # Rasa predicts the next action and saves the tracker without giving
        # the event loop back; a blocking sleep holds it the same way.
        time.sleep(TURN_WORK_S)
        work_done_at.append(time.monotonic())

    async with serve(channel, answer=reply_then_finish_the_turn) as served:
        # The customer's client runs in its own thread and loop, so it can
        # receive while the server's loop is held.
        reply_at = await asyncio.to_thread(_first_reply_at, served.url)

    assert len(work_done_at) == 1
    assert reply_at < work_done_at[0] - TURN_WORK_S / 2
