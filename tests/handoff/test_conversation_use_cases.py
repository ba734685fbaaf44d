"""The conversation use cases built directly over a store, without the API.

Each test wires the use cases it needs the way ``ConversationService`` does,
on a migrated SQLite database, with a recording stand-in for Rasa's client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff import db, events
from handoff.errors import Conflict, DeliveryError
from handoff.events import EventBus
from handoff.models import Agent, Conversation, ConversationStatus, Message, MessageRole
from handoff.rasa_client import RasaClient
from handoff.services.conversations import HandoffRequest, channel_of
from handoff.services.conversations.assign import Assign, AutoAssign
from handoff.services.conversations.close import Resolve
from handoff.services.conversations.hand_off import HandOff
from handoff.services.conversations.post_message import MAX_TEXT_LENGTH, PostMessage, checked_text
from handoff.services.conversations.store import ConversationStore
from handoff.services.conversations.survey import CsatSurvey
from handoff.services.metrics import rollup
from handoff.settings import Settings, load_settings


@dataclass
class RecordingRasa:
    """Records outbound calls; ``fail_send`` makes every send raise ``DeliveryError``."""

    fail_send: bool = False
    calls: list[tuple[str, ...]] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)

    async def send(
        self,
        channel: str,
        cid: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.calls.append(("send", channel, cid, text))
        if idempotency_key is not None:
            self.idempotency_keys.append(idempotency_key)
        if self.fail_send:
            raise DeliveryError("connector down")

    async def record_agent_turn(self, cid: str, text: str, agent: str) -> None:
        self.calls.append(("record_agent_turn", cid, text, agent))

    async def record_system_turn(
        self, cid: str, text: str, buttons: list[dict[str, Any]] | None = None
    ) -> None:
        self.calls.append(("record_system_turn", cid, text))

    async def resume(self, cid: str) -> None:
        self.calls.append(("resume", cid))

    async def replay(self, channel: str, cid: str, text: str) -> None:
        self.calls.append(("replay", channel, cid, text))


@dataclass
class World:
    """The store, its sessions, the emitted events and the stand-in Rasa."""

    store: ConversationStore
    sessions: async_sessionmaker[AsyncSession]
    rasa: RecordingRasa
    events: list[dict[str, Any]]
    settings: Settings

    @property
    def client(self) -> RasaClient:
        return cast(RasaClient, self.rasa)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'handoff.sqlite3'}"
    db.migrate(url)
    rollup.register()
    settings = load_settings(
        _env_file=None,
        handoff_env="development",
        handoff_database_url=url,
        handoff_business_hours="00:00-23:59",
        bot_var_dir=tmp_path / "var",
    )
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    bus = EventBus()
    emitted: list[dict[str, Any]] = []

    async def record(event: dict[str, Any]) -> None:
        emitted.append(event)

    bus.listen(record)
    store = ConversationStore(sessions=sessions, bus=bus, wait_alert_s=600)
    yield World(store, sessions, RecordingRasa(), emitted, settings)
    await engine.dispose()


async def _agent(world: World, username: str, *, online: bool = False) -> Agent:
    async with world.sessions.begin() as session:
        agent = Agent(username=username, password_hash="x", online=online, skills=["after_sales"])
        session.add(agent)
    return agent


async def _hand_off(world: World, cid: str) -> None:
    hand_off = HandOff(world.store, AutoAssign(world.store), world.settings)
    await hand_off.perform(HandoffRequest(conversation_id=cid, reason="explicit_request"))


async def _messages(world: World, cid: str) -> list[Message]:
    async with world.sessions() as session:
        return list(
            await session.scalars(
                select(Message).where(Message.conversation_id == cid).order_by(Message.id)
            )
        )


def test_channel_of_known_and_plain_ids() -> None:
    assert channel_of("telegram:42") == "telegram"
    assert channel_of("wechat:o-abc") == "wechat"
    assert channel_of("someone") == "rest"
    assert channel_of("sms:1") == "rest"


def test_checked_text_strips_and_refuses_empty_or_long() -> None:
    assert checked_text("  hello \n") == "hello"
    with pytest.raises(Conflict):
        checked_text("   ")
    with pytest.raises(Conflict):
        checked_text("x" * (MAX_TEXT_LENGTH + 1))


async def test_store_lock_serialises_one_conversation(world: World) -> None:
    order: list[str] = []

    async def hold(name: str) -> None:
        async with world.store.locked("telegram:1"):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_hand_off_queues_then_auto_assign_gives_it_to_a_free_agent(world: World) -> None:
    await _hand_off(world, "telegram:7")
    assert [e["type"] for e in world.events] == [events.HANDED_OFF]
    alice = await _agent(world, "alice", online=True)
    assert await AutoAssign(world.store).perform() == ["telegram:7"]
    async with world.sessions() as session:
        conversation = await session.get(Conversation, "telegram:7")
        assert conversation is not None
        assert conversation.status == ConversationStatus.OPEN
        assert conversation.assignee_id == alice.id
    kinds = [m.activity["kind"] for m in await _messages(world, "telegram:7") if m.activity]
    assert kinds == ["handed_off", "auto_assigned"]


async def test_assign_refuses_a_conversation_held_by_another_agent(world: World) -> None:
    await _hand_off(world, "telegram:8")
    alice = await _agent(world, "alice")
    bob = await _agent(world, "bob")
    assign = Assign(world.store, AutoAssign(world.store))
    await assign.perform("telegram:8", actor=alice)
    with pytest.raises(Conflict):
        await assign.perform("telegram:8", actor=bob)


async def test_first_reply_claims_sends_and_records(world: World) -> None:
    await _hand_off(world, "telegram:9")
    alice = await _agent(world, "alice")
    message = await PostMessage(world.store, world.client).perform(
        "telegram:9", agent=alice, text=" Hello "
    )
    assert message.delivery == "sent" and message.text == "Hello"
    assert world.rasa.calls == [
        ("send", "telegram", "telegram:9", "Hello"),
        ("record_agent_turn", "telegram:9", "Hello", "alice"),
    ]
    assert world.rasa.idempotency_keys == [f"handoff-message-{message.id}"]
    async with world.sessions() as session:
        conversation = await session.get(Conversation, "telegram:9")
        assert conversation is not None
        assert conversation.assignee_id == alice.id
        assert conversation.first_response_at is not None


async def test_a_note_goes_nowhere_and_a_failed_reply_is_kept_and_raised(world: World) -> None:
    await _hand_off(world, "telegram:10")
    alice = await _agent(world, "alice")
    post = PostMessage(world.store, world.client)
    note = await post.perform("telegram:10", agent=alice, text="a note", private=True)
    assert note.private and note.delivery is None and world.rasa.calls == []
    world.rasa.fail_send = True
    with pytest.raises(DeliveryError) as raised:
        await post.perform("telegram:10", agent=alice, text="hello")
    stored = [m for m in await _messages(world, "telegram:10") if m.role == MessageRole.AGENT]
    assert raised.value.message_id == stored[-1].id
    assert (stored[-1].delivery, stored[-1].error) == ("failed", "connector down")


async def test_resolve_gives_back_to_the_bot_when_the_rating_cannot_be_asked(
    world: World,
) -> None:
    await _hand_off(world, "telegram:11")
    alice = await _agent(world, "alice")
    auto_assign = AutoAssign(world.store)
    survey = CsatSurvey(world.store, world.client, csat_window_s=600)
    world.rasa.fail_send = True
    await Resolve(world.store, survey, auto_assign).perform("telegram:11", agent=alice)
    assert ("resume", "telegram:11") in world.rasa.calls
    async with world.sessions() as session:
        conversation = await session.get(Conversation, "telegram:11")
        assert conversation is not None
        assert conversation.status == ConversationStatus.RESOLVED
        assert not conversation.csat_pending
