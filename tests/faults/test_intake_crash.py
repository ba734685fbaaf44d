"""Fault: Rasa is killed (SIGKILL) right after the platforms got their acknowledgements.

The real stack (demo shop, action server, Rasa on the current model) with
Telegram and WeChat pointed at their stand-ins and the web chat on
socket.io. Telegram, WeChat and web chat customers each send a short burst,
every message once the previous one was acknowledged; as soon as the last
acknowledgement is in, Rasa is killed without a chance to finish anything,
then started again on the same folder (the connectors' SQLite file, the
tracker store). Every acknowledged message must then be handled exactly
once, in the order sent, and answered, and each Telegram and WeChat
customer must have been sent exactly the answers the tracker records.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.training.model_cache import current_model_path
from connectors.intake.store import InboundStore
from tests.support.intake_customers import (
    TELEGRAM_TOKEN,
    TEXTS,
    WECHAT_APP_ID,
    WECHAT_APP_SECRET,
    Customers,
    everyone_answered,
    report,
    stack_settings,
)
from tests.support.processes import Stack, running_stack, wait_until
from tests.support.telegram_api import TelegramApi, running_telegram_api
from tests.support.wechat_api import WeChatApi, running_wechat_api

pytestmark = pytest.mark.stack

# Bounds of every wait: Rasa loads its model in about 45 s on this machine.
RESTART_TIMEOUT_S = 300
ANSWERED_TIMEOUT_S = 180
# Short leases so that the restarted process takes up the dead one's
# messages soon (the restart takes longer than this anyway).
FAST_REPLAY = {"INTAKE_LEASE_S": "3", "INTAKE_REPLAY_EVERY_S": "1"}


@pytest.fixture(scope="module")
def crash_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, TelegramApi, WeChatApi]]:
    if not current_model_path().exists():
        pytest.skip("no trained model at models/current.tar.gz (run `make model`)")
    var_dir = tmp_path_factory.mktemp("intake-crash")
    with (
        running_telegram_api(TELEGRAM_TOKEN) as telegram,
        running_wechat_api(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as wechat,
        running_stack(var_dir, **stack_settings(telegram, wechat), **FAST_REPLAY) as stack,
    ):
        yield stack, telegram, wechat


def _rasa_ready(stack: Stack) -> bool:
    return httpx.get(f"{stack.rasa_url}/status", timeout=2).status_code == 200


async def test_a_killed_rasa_answers_every_acknowledged_message_once_in_order_after_restart(
    crash_stack: tuple[Stack, TelegramApi, WeChatApi],
) -> None:
    stack, telegram, wechat = crash_stack
    customers = Customers(stack.rasa_url, telegram_bot_id=telegram.bot_id)
    conversations = (
        [customers.telegram() for _ in range(4)]
        + [customers.wechat() for _ in range(4)]
        + [customers.webchat() for _ in range(3)]
    )
    try:
        await asyncio.gather(*(customers.burst(c, TEXTS) for c in conversations))
        rasa = next(process for process in stack.processes if process.name == "rasa")
        assert rasa.popen is not None
        rasa.popen.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        rasa.popen.wait(timeout=10)
        await customers.drop_sockets()
        for conversation in conversations:
            assert conversation.refused == [], conversation
            assert len(conversation.acknowledged) == len(TEXTS)
        # The kill must have caught work unfinished, or this test proves nothing.
        store = InboundStore(f"sqlite:///{Path(stack.var_dir) / 'connectors.db'}")
        unfinished = store.counts()
        assert unfinished["pending"] > 0, unfinished
        in_flight = set(store.pending_conversations())

        rasa.start()
        await asyncio.to_thread(
            wait_until,
            lambda: _rasa_ready(stack),
            timeout_s=RESTART_TIMEOUT_S,
            what="the restarted Rasa",
        )
        await asyncio.to_thread(
            wait_until,
            lambda: everyone_answered(stack.rasa_url, conversations),
            timeout_s=ANSWERED_TIMEOUT_S,
            what="every acknowledged message answered",
        )
        recovered_s = time.monotonic() - killed_at
        # Deliveries of the last answers may still be on their way.
        await asyncio.sleep(2)
        totals = report(stack.rasa_url, conversations, telegram, wechat)
    finally:
        await customers.close()
    print(
        f"SIGKILL of Rasa: sent {totals['sent']}, acknowledged {totals['acknowledged']}, "
        f"unfinished at the kill {unfinished['pending']}, answered {totals['answered']}, "
        f"replies repeated (in flight at the kill) {sum(totals['replies_repeated'].values())}, "
        f"recovered in {recovered_s:.0f} s (restart included)"
    )
    assert totals["acknowledged"] == totals["sent"] == len(conversations) * len(TEXTS)
    assert totals["lost"] == []
    assert totals["twice"] == []
    assert totals["unanswered"] == []
    assert totals["out_of_order"] == []
    assert totals["replies_missing"] == []
    # A reply counts once it reached the platform (connectors/intake/output.py),
    # so a run after the restart repeats none, except one whose send was in
    # flight at the kill: at most one, in a conversation with work unfinished.
    for conversation_id, extra in totals["replies_repeated"].items():
        assert conversation_id in in_flight and extra == 1, totals["replies_repeated"]
    assert totals["answered"] == totals["acknowledged"]
    after = InboundStore(f"sqlite:///{Path(stack.var_dir) / 'connectors.db'}").counts()
    assert after == {"pending": 0, "done": totals["acknowledged"]}
