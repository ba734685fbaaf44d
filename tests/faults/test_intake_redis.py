"""Fault: Redis (Rasa's lock store, ``REDIS_URL``) stops and starts again under a steady load.

The real stack with ``REDIS_URL`` pointing at a private redis-server on a
port of its own. Telegram, WeChat and web chat customers send a message
every half second; a few seconds in, Redis is stopped, and started again
a few seconds later. Every message must be acknowledged (stored in the
connectors' database, which does not need Redis; never a 5xx), the messages
that came while Redis was down wait in the inbound table, and in the end
every acknowledged message is handled exactly once, in order, and answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.training.model_cache import current_model_path
from tests.support.intake_customers import (
    TELEGRAM_TOKEN,
    TEXTS,
    WECHAT_APP_ID,
    WECHAT_APP_SECRET,
    Conversation,
    Customers,
    everyone_answered,
    report,
    stack_settings,
)
from tests.support.intake_redis import PrivateRedis, private_redis
from tests.support.processes import Stack, running_stack, wait_until
from tests.support.telegram_api import TelegramApi, running_telegram_api
from tests.support.wechat_api import WeChatApi, running_wechat_api

pytestmark = pytest.mark.stack

MESSAGES_EACH = 10
PAUSE_S = 0.5
REDIS_DOWN_AFTER_S = 1.5
REDIS_DOWN_FOR_S = 4.0
ANSWERED_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def redis_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Stack, TelegramApi, WeChatApi, PrivateRedis]]:
    if not current_model_path().exists():
        pytest.skip("no trained model at models/current.tar.gz (run `make model`)")
    var_dir = tmp_path_factory.mktemp("intake-redis")
    with (
        private_redis(var_dir) as redis_server,
        running_telegram_api(TELEGRAM_TOKEN) as telegram,
        running_wechat_api(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as wechat,
        running_stack(
            var_dir,
            REDIS_URL=redis_server.url,
            INTAKE_MAX_BACKOFF_S="1",
            **stack_settings(telegram, wechat),
        ) as stack,
    ):
        yield stack, telegram, wechat, redis_server


async def _steady(customers: Customers, conversation: Conversation) -> None:
    for n in range(MESSAGES_EACH):
        await customers.say(conversation, TEXTS[n % len(TEXTS)])
        await asyncio.sleep(PAUSE_S)


async def _outage(server: PrivateRedis) -> float:
    await asyncio.sleep(REDIS_DOWN_AFTER_S)
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(REDIS_DOWN_FOR_S)
    await asyncio.to_thread(server.start)
    return time.monotonic()


async def test_messages_wait_for_redis_and_none_is_lost(
    redis_stack: tuple[Stack, TelegramApi, WeChatApi, PrivateRedis],
) -> None:
    stack, telegram, wechat, redis_server = redis_stack
    customers = Customers(stack.rasa_url, telegram_bot_id=telegram.bot_id)
    conversations = (
        [customers.telegram() for _ in range(3)]
        + [customers.wechat() for _ in range(3)]
        + [customers.webchat() for _ in range(2)]
    )
    try:
        *_, back_at = await asyncio.gather(
            *(_steady(customers, c) for c in conversations), _outage(redis_server)
        )
        await asyncio.to_thread(
            wait_until,
            lambda: everyone_answered(stack.rasa_url, conversations),
            timeout_s=ANSWERED_TIMEOUT_S,
            what="every acknowledged message answered",
        )
        recovered_s = time.monotonic() - back_at
        await asyncio.sleep(2)
        totals = report(stack.rasa_url, conversations, telegram, wechat)
    finally:
        await customers.close()
    log = (Path(stack.var_dir) / "rasa.log").read_text(errors="replace")
    waited = log.count("waits, a server is unreachable")
    for line in log.splitlines():
        if "inbound" in line or "Error" in line:
            print(line[:300])
    print(
        f"Redis stopped for {REDIS_DOWN_FOR_S:.0f} s: sent {totals['sent']}, "
        f"acknowledged {totals['acknowledged']}, answered {totals['answered']}, "
        f"tries that waited for Redis {waited}, all answered {recovered_s:.1f} s after it was back"
    )
    for conversation in conversations:
        assert conversation.refused == [], conversation
    # Redis was down while messages came: some must have waited for it.
    assert waited > 0
    assert totals["acknowledged"] == totals["sent"] == len(conversations) * MESSAGES_EACH
    assert totals["lost"] == []
    assert totals["twice"] == []
    assert totals["unanswered"] == []
    assert totals["out_of_order"] == []
    assert totals["replies_missing"] == []
    assert totals["replies_repeated"] == {}
    assert totals["answered"] == totals["acknowledged"]
