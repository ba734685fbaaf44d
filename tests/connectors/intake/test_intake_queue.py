"""The durable intake: stored once, processed in order per conversation, replayed until done."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import LockError
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.intake.config import IntakeConfig
from connectors.intake.notice import wait_notice
from connectors.intake.queue import Intake, is_unreachable
from connectors.intake.store import (
    PRUNE_EVERY_S,
    REMEMBER_FOR_S,
    InboundStore,
    Received,
    Stored,
    inbound,
)
from connectors.intake.store import position as pos
from tests.support.postgres import throwaway_database

QUICK = IntakeConfig(lease_s=0.6, replay_every_s=0.1, max_failures=3, max_backoff_s=0.05)


class Recorder:
    """A handler that records what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.running: set[str] = set()
        self.overlaps = 0
        self.fail_with: BaseException | None = None
        self.fail_times = 0
        self.delay_s = 0.0

    async def __call__(self, message: Stored) -> None:
        if message.conversation_id in self.running:
            self.overlaps += 1
        self.running.add(message.conversation_id)
        try:
            await asyncio.sleep(self.delay_s)
            if self.fail_with is not None and self.fail_times > 0:
                self.fail_times -= 1
                raise self.fail_with
            self.handled.append(str(message.payload["text"]))
        finally:
            self.running.discard(message.conversation_id)


def _intake(url: str, config: IntakeConfig = QUICK) -> Intake:
    return Intake(InboundStore(url), "telegram", config)


async def _accept(intake: Intake, conversation: str, n: int, *, order: int | None = None) -> bool:
    return await intake.accept(
        key=f"{conversation}:{n}",
        conversation_id=conversation,
        position=pos(n if order is None else order),
        payload={"text": f"{conversation}#{n}"},
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'connectors.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("intake") as url:
        yield url


async def test_a_message_is_stored_once_and_handled_once(sqlite_url: str) -> None:
    intake, recorder = _intake(sqlite_url), Recorder()
    intake.bind(recorder)
    assert await _accept(intake, "telegram:1", 1)
    assert not await _accept(intake, "telegram:1", 1)  # the platform's retry
    await intake.wait()
    assert recorder.handled == ["telegram:1#1"]
    assert intake.store.counts() == {"pending": 0, "done": 1}


async def test_accepts_from_two_processes_at_once_store_each_key_once(sqlite_url: str) -> None:
    """Two intakes on one file (as two processes would be), eight tries at once per key."""
    intakes = [_intake(sqlite_url), _intake(sqlite_url)]
    for intake in intakes:
        intake.bind(Recorder())
    for n in range(5):
        tries = [_accept(intakes[i % 2], "wechat:a", n) for i in range(8)]
        assert sorted(await asyncio.gather(*tries)) == [False] * 7 + [True]
    for intake in intakes:
        await intake.wait()
    assert intakes[0].store.counts() == {"pending": 0, "done": 5}


async def test_postgresql_stores_each_key_once_through_threads(postgres_url: str) -> None:
    intakes = [_intake(postgres_url), _intake(postgres_url)]
    threads: list[int] = []
    sa.event.listen(
        intakes[0].store._engine,
        "before_cursor_execute",
        lambda *_: threads.append(threading.get_ident()),
    )
    recorders = [Recorder(), Recorder()]
    for intake, recorder in zip(intakes, recorders, strict=True):
        intake.bind(recorder)
    assert not intakes[0].store.local
    for n in range(3):
        tries = [_accept(intakes[i % 2], "wechat:b", n) for i in range(8)]
        assert sorted(await asyncio.gather(*tries)) == [False] * 7 + [True]
    for intake in intakes:
        await intake.wait()
    handled = recorders[0].handled + recorders[1].handled
    assert sorted(handled) == ["wechat:b#0", "wechat:b#1", "wechat:b#2"]
    assert threads and threading.get_ident() not in threads
    for intake in intakes:
        intake.store._engine.dispose()


async def test_sqlite_calls_run_on_the_event_loop(sqlite_url: str) -> None:
    intake = _intake(sqlite_url)
    intake.bind(Recorder())
    threads: list[int] = []
    sa.event.listen(
        intake.store._engine,
        "before_cursor_execute",
        lambda *_: threads.append(threading.get_ident()),
    )
    assert await _accept(intake, "telegram:2", 1)
    await intake.wait()
    assert threads and set(threads) == {threading.get_ident()}


async def test_one_conversation_is_handled_one_at_a_time_in_the_platforms_order(
    sqlite_url: str,
) -> None:
    intake, recorder = _intake(sqlite_url), Recorder()
    recorder.delay_s = 0.01
    intake.bind(recorder)
    # Numbered 5, 3, 4 by the platform, arriving 5 first: 5 is already under
    # way, then 3 and 4 come in the platform's order.
    await _accept(intake, "c:1", 5)
    await asyncio.gather(_accept(intake, "c:1", 3), _accept(intake, "c:1", 4))
    await asyncio.gather(*(_accept(intake, f"c:{n}", 1) for n in range(2, 6)))
    await intake.wait()
    assert [text for text in recorder.handled if text.startswith("c:1#")] == [
        "c:1#5",
        "c:1#3",
        "c:1#4",
    ]
    assert recorder.overlaps == 0
    assert len(recorder.handled) == 7


async def test_messages_stored_before_a_restart_are_handled_at_start_up(sqlite_url: str) -> None:
    crashed = _intake(sqlite_url)  # stored, then the process died before handling
    for n in range(3):
        crashed.store.add(
            _received("telegram:9", n),
            owner=crashed.owner,
            lease_s=QUICK.lease_s,
        )
    restarted, recorder = _intake(sqlite_url), Recorder()
    restarted.bind(recorder)
    restarted.start()
    # Not before the dead process's lease ran out, then all, in order.
    await asyncio.sleep(0.2)
    assert recorder.handled == []
    await _until(lambda: len(recorder.handled) == 3, timeout_s=3)
    await restarted.stop(1)
    assert recorder.handled == ["telegram:9#0", "telegram:9#1", "telegram:9#2"]
    assert restarted.store.counts() == {"pending": 0, "done": 3}


async def test_a_message_handled_before_its_end_was_recorded_is_not_handled_again(
    sqlite_url: str,
) -> None:
    store = InboundStore(sqlite_url)
    store.add(_received("telegram:7", 1), owner="dead", lease_s=0.01)
    assert isinstance(store.take_next("telegram", "telegram:7", owner="dead", lease_s=0.01), Stored)
    time.sleep(0.02)
    recorder = Recorder()
    restarted = _intake(sqlite_url)
    checked: list[int] = []

    async def in_tracker(message: Stored) -> bool:
        checked.append(message.tries)
        return True

    restarted.bind(recorder)
    restarted.check_with(in_tracker)
    restarted.start()
    await _until(lambda: restarted.store.counts()["done"] == 1, timeout_s=3)
    await restarted.stop(1)
    assert checked == [2]
    assert recorder.handled == []


async def test_an_unreachable_server_keeps_the_message_first_in_line_until_it_is_back(
    sqlite_url: str,
) -> None:
    intake, recorder = _intake(sqlite_url), Recorder()
    recorder.fail_with = RedisConnectionError("Connection refused")
    recorder.fail_times = 20  # more than max_failures: waiting is not failing
    intake.bind(recorder)
    await _accept(intake, "telegram:5", 1)
    await _accept(intake, "telegram:5", 2)
    await intake.wait()
    assert recorder.handled == ["telegram:5#1", "telegram:5#2"]
    assert recorder.fail_times == 0


async def test_a_message_failing_on_its_own_is_given_up_and_the_next_goes_on(
    sqlite_url: str,
) -> None:
    intake, recorder = _intake(sqlite_url), Recorder()
    recorder.fail_with = ValueError("poisoned")
    recorder.fail_times = QUICK.max_failures
    intake.bind(recorder)
    await _accept(intake, "telegram:6", 1)
    await _accept(intake, "telegram:6", 2)
    await intake.wait()
    assert recorder.handled == ["telegram:6#2"]
    with intake.store._engine.connect() as connection:
        outcome = connection.execute(
            sa.select(inbound.c.outcome).where(inbound.c.key == "telegram:6:1")
        ).scalar_one()
    assert outcome.startswith("given up: ValueError('poisoned')")


def test_unreachable_servers_are_told_from_other_failures() -> None:
    assert is_unreachable(RedisConnectionError("refused"))
    assert is_unreachable(ConnectionRefusedError())
    assert is_unreachable(asyncio.TimeoutError())
    wrapped = RuntimeError("lock failed")
    wrapped.__cause__ = RedisConnectionError("refused")
    assert is_unreachable(wrapped)
    try:
        try:
            raise RedisConnectionError("refused")
        except RedisConnectionError as redis_error:
            # As Rasa's lock store does: a new error, the old one as its context.
            raise RuntimeError(f"Error while acquiring lock. Error:\n{redis_error}")  # noqa: B904
    except RuntimeError as lock_error:
        assert is_unreachable(lock_error)
    assert is_unreachable(LockError("Could not acquire lock"))
    assert not is_unreachable(ValueError("bad"))
    assert not is_unreachable(KeyError("x"))


async def test_done_messages_are_pruned_after_a_day_not_on_every_accept(sqlite_url: str) -> None:
    store = InboundStore(sqlite_url)
    expired = time.time() - REMEMBER_FOR_S - 1

    def add_done(key: str) -> None:
        with store._engine.begin() as connection:
            connection.execute(
                inbound.insert().values(
                    key=key,
                    channel="telegram",
                    conversation_id="c",
                    position=pos(0),
                    payload="{}",
                    received_at=expired,
                    tries=1,
                    failures=0,
                    done_at=expired,
                )
            )

    def keys() -> set[str]:
        with store._engine.connect() as connection:
            return set(connection.execute(sa.select(inbound.c.key)).scalars())

    add_done("old:1")
    assert store.add(_received("c", 1, key="new:1"), owner="me", lease_s=1)
    assert keys() == {"new:1"}  # the first accept prunes
    add_done("old:2")
    assert store.add(_received("c", 2, key="new:2"), owner="me", lease_s=1)
    assert keys() == {"new:1", "new:2", "old:2"}  # not again within PRUNE_EVERY_S
    store._pruned_at -= PRUNE_EVERY_S
    assert store.add(_received("c", 3, key="new:3"), owner="me", lease_s=1)
    assert keys() == {"new:1", "new:2", "new:3"}


def test_positions_sort_as_the_numbers_do() -> None:
    numbers = [(1, 2), (1, 10), (2, 0), (10, 1), (1700000000, 24466849874823478)]
    assert sorted(pos(*n) for n in numbers) == [pos(*n) for n in sorted(numbers)]
    assert pos(-5) == pos(0)


def _received(conversation: str, n: int, *, key: str | None = None) -> Received:
    return Received(
        key or f"{conversation}:{n}",
        "telegram",
        conversation,
        pos(n),
        {"text": f"{conversation}#{n}"},
    )


async def _until(condition: Callable[[], bool], *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_a_customer_waiting_longer_than_the_limit_is_told_once_per_wait(
    sqlite_url: str,
) -> None:
    config = IntakeConfig(lease_s=5, replay_every_s=5, max_failures=3, wait_notice_s=0.2)
    intake, recorder = _intake(sqlite_url, config), Recorder()
    release = asyncio.Event()
    notices: list[tuple[str, str]] = []

    async def slow(message: Stored) -> None:
        await release.wait()
        await recorder(message)

    async def notify(conversation_id: str, payload: dict[str, object]) -> None:
        notices.append((conversation_id, str(payload["text"])))

    intake.bind(slow, notify=notify)
    for n in range(3):
        await _accept(intake, "telegram:8", n)
    await asyncio.sleep(0.5)
    # Three messages waited past the limit: one notice, for the first of them.
    assert notices == [("telegram:8", "telegram:8#0")]
    release.set()
    await intake.wait()
    assert recorder.handled == ["telegram:8#0", "telegram:8#1", "telegram:8#2"]
    # A new wait is told again; an answer within the limit is not.
    release.clear()
    await _accept(intake, "telegram:8", 3)
    await asyncio.sleep(0.4)
    release.set()
    await intake.wait()
    await _accept(intake, "telegram:8", 4)
    await intake.wait()
    await asyncio.sleep(0.4)
    assert notices == [("telegram:8", "telegram:8#0"), ("telegram:8", "telegram:8#3")]


def test_the_notice_is_in_the_customers_language() -> None:
    assert wait_notice("where is my parcel", None) == "Got it, one moment please"
    assert wait_notice("我的快递到哪了", None) == "收到，正在为您处理，请稍候"
    assert wait_notice("我的快遞到哪了", {"language_code": "zh-TW"}) == "收到，正在為您處理，請稍候"
    assert wait_notice("ok", {"language_code": "en-US"}) == "Got it, one moment please"
    assert wait_notice(None, None) == "收到，正在为您处理，请稍候"


async def test_replies_an_earlier_run_sent_are_not_sent_again(sqlite_url: str) -> None:
    """Killed after one of two replies left: the run after the restart sends only the second."""
    store = InboundStore(sqlite_url)
    store.add(_received("telegram:3", 1), owner="dead", lease_s=0.01)
    taken = store.take_next("telegram", "telegram:3", owner="dead", lease_s=0.01)
    assert isinstance(taken, Stored)
    store.count_sent(taken.key)  # the first reply reached the platform, then the kill
    time.sleep(0.02)
    platform = CollectingOutputChannel()
    restarted = _intake(sqlite_url)

    async def two_replies(message: Stored) -> None:
        output = restarted.output_for(message, platform)
        assert output.name() == platform.name()
        for text in ("first", "second"):
            await output.send_response(message.conversation_id, {"text": text})

    restarted.bind(two_replies)
    restarted.start()
    await _until(lambda: restarted.store.counts()["done"] == 1, timeout_s=3)
    await restarted.stop(1)
    assert [message["text"] for message in platform.messages] == ["second"]
    with restarted.store._engine.connect() as connection:
        sent = connection.execute(
            sa.select(inbound.c.sent).where(inbound.c.key == taken.key)
        ).scalar_one()
    assert sent == 2
