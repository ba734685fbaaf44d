"""What the intake needs from Rasa's server: the agent's tracker, and start/stop listeners."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import UserUttered
from sanic import Blueprint

from bot import settings as bot_settings
from bot.settings import Settings
from connectors.database import database_url
from connectors.intake.config import IntakeConfig
from connectors.intake.queue import AlreadyHandled, Intake
from connectors.intake.store import InboundStore, Stored

# How long a stopping server lets messages in flight finish.
SHUTDOWN_GRACE_S = 30.0


def intake_from_settings(channel: str, settings: Settings | None = None) -> Intake:
    """The channel's intake on the connectors' database (``DATABASE_URL`` or SQLite)."""
    settings = settings or bot_settings.load()
    return Intake(InboundStore(database_url(settings)), channel, IntakeConfig.from_env())


def handled_in_tracker(agent: Any) -> AlreadyHandled:
    """Whether Rasa's tracker holds the message (it was handled, only not marked done)."""

    async def check(message: Stored) -> bool:
        tracker = await agent.tracker_store.retrieve(message.conversation_id)
        if tracker is None:
            return False
        return any(
            isinstance(event, UserUttered) and event.message_id == message.key
            for event in reversed(tracker.events)
        )

    return check


def mount_listeners(blueprint: Blueprint, intake: Intake) -> None:
    """Starts the intake's replay once Rasa's agent is loaded; lets work finish at shutdown."""

    @blueprint.listener("after_server_start")
    async def start_intake(app: Any, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is not None and getattr(agent, "tracker_store", None) is not None:
            intake.check_with(handled_in_tracker(agent))
        intake.start()

    # Before the server stops, while Rasa's agent can still answer them.
    @blueprint.listener("before_server_stop")
    async def stop_intake(_app: Any, _loop: Any) -> None:
        await intake.stop(SHUTDOWN_GRACE_S)
