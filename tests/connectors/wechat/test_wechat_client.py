"""Sending through the customer-service API of the stand-in WeChat server.

The access token is shared through the stores (SQL by default, Redis when
``REDIS_URL`` is set); refusals are logged, recorded and retried only when
WeChat says "system busy" or cannot be reached.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot import settings as bot_settings
from bot.settings import Settings
from connectors.wechat.client import SharedTokenClient
from connectors.wechat.config import WeChatConfig
from connectors.wechat.output import WeChatOutput
from connectors.wechat.send import MAX_TEXT_BYTES, CustomServiceSender
from connectors.wechat.store import REDIS_PREFIX, stores_from_settings
from tests.support.processes import free_port
from tests.support.wechat_api import WeChatApi, running_wechat_api

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_SECRET = "0123456789abcdef0123456789abcdef"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def app_id() -> str:
    # Unique per test: Redis keys (token, choices) are named after it.
    return "wx" + uuid.uuid4().hex[:16]


@pytest.fixture
def api(app_id: str) -> Iterator[WeChatApi]:
    with running_wechat_api(app_id=app_id, app_secret=APP_SECRET) as api:
        yield api


def _settings(monkeypatch: pytest.MonkeyPatch, var_dir: Path, redis_url: str | None) -> Settings:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("BOT_VAR_DIR", str(var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    return bot_settings.load()


@pytest.fixture(params=["sql", "redis"])
def settings(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app_id: str
) -> Iterator[Settings]:
    """The project's settings with the stores in SQLite, then in Redis."""
    if request.param == "redis" and not _redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield _settings(monkeypatch, tmp_path, REDIS_URL if request.param == "redis" else None)
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(f"{REDIS_PREFIX}:{app_id}_access_token")


async def _no_wait(_seconds: float) -> None:
    pass


def _output(
    api: WeChatApi, settings: Settings, *, base_url: str | None = None, secret: str = ""
) -> WeChatOutput:
    """An output channel whose sender does not wait between retries."""
    stores = stores_from_settings(settings)
    client = SharedTokenClient(
        api.app_id,
        secret or api.app_secret,
        api_base_url=base_url or api.url,
        session=stores.session,
        token_lock=stores.token_lock,
    )
    sender = CustomServiceSender(client, local_store=stores.local, sleep=_no_wait)
    return WeChatOutput(sender, stores)


def _openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


async def test_two_clients_share_one_token(api: WeChatApi, settings: Settings) -> None:
    config = WeChatConfig("token123", api.app_id, api.app_secret, api_base_url=api.url)
    first = WeChatOutput.from_config(config, settings)
    second = WeChatOutput.from_config(config, settings)  # another replica's
    openid = _openid()
    await first.send_text_message(f"wechat:{openid}", "一")
    await second.send_text_message(f"wechat:{openid}", "二")
    await first.send_text_message(openid, "三")
    assert api.token_fetches == 1
    assert api.texts(openid) == ["一", "二", "三"]
    assert len({attempt.access_token for attempt in api.attempts}) == 1
    assert api.delivered(openid)[0] == {
        "touser": openid,
        "msgtype": "text",
        "text": {"content": "一"},
    }


async def test_window_closed_is_recorded_and_not_retried(
    api: WeChatApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    output = _output(api, settings)
    openid = _openid()
    api.answer_next(45015)
    with caplog.at_level(logging.WARNING, logger="connectors.wechat"):
        result = await output.deliver(
            openid, {"msgtype": "text", "text": {"content": "您的退款已到账"}}
        )
    assert not result.ok and result.errcode == 45015
    assert len(api.attempts) == 1
    assert "errcode=45015" in caplog.text
    [failure] = output.stores.failures.recent(recipient=openid)
    assert (failure.channel, failure.recipient, failure.errcode) == ("wechat", openid, 45015)
    assert failure.text == "您的退款已到账"
    assert "out of time limit" in failure.errmsg
    # The next message to someone else goes out normally.
    await output.send_text_message(_openid(), "ok")
    assert api.texts() == ["ok"]


async def test_system_busy_is_retried_twice(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings)
    openid = _openid()
    api.answer_next(-1, -1)
    assert (await output.deliver(openid, {"msgtype": "text", "text": {"content": "a"}})).ok
    assert [a.errcode for a in api.attempts] == [-1, -1, 0]
    assert output.stores.failures.recent(recipient=openid) == []

    api.answer_next(-1, -1, -1, 0)
    result = await output.deliver(openid, {"msgtype": "text", "text": {"content": "b"}})
    assert not result.ok and result.errcode == -1
    assert [a.errcode for a in api.attempts[3:]] == [-1, -1, -1]
    assert [f.errcode for f in output.stores.failures.recent(recipient=openid)] == [-1]


async def test_other_refusals_are_final(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings)
    openid = _openid()
    api.answer_next(45047)  # over the customer-service message limit
    result = await output.deliver(openid, {"msgtype": "text", "text": {"content": "c"}})
    assert (result.ok, result.errcode, len(api.attempts)) == (False, 45047, 1)


async def test_a_rejected_token_is_replaced_once(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings)
    openid = _openid()
    await output.send_text_message(openid, "before")
    api.revoke_tokens()  # e.g. someone fetched a token elsewhere with the same secret
    await output.send_text_message(openid, "after")
    assert api.token_fetches == 2
    assert [a.errcode for a in api.attempts] == [0, 40001, 0]
    assert api.texts(openid) == ["before", "after"]


async def test_unreachable_api_is_retried_then_recorded(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings, base_url=f"http://127.0.0.1:{free_port()}")
    openid = _openid()
    result = await output.deliver(openid, {"msgtype": "text", "text": {"content": "d"}})
    assert not result.ok and result.errcode is None
    [failure] = output.stores.failures.recent(recipient=openid)
    # wechatpy fetches the token first, through requests.
    assert failure.errcode is None and "ConnectionError" in failure.errmsg


async def test_wrong_secret_is_recorded(api: WeChatApi, settings: Settings) -> None:
    openid = _openid()
    result = await _output(api, settings, secret="wrong").deliver(
        openid, {"msgtype": "text", "text": {"content": "e"}}
    )
    assert (result.ok, result.errcode, api.attempts) == (False, 40125, [])


async def test_long_text_goes_in_pieces(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings)
    openid = _openid()
    paragraph = "退货运费说明：" + "质量问题由我们承担运费。" * 20 + "\n"
    text = paragraph * 12 + "一" * 1000
    await output.send_text_message(openid, text)
    pieces = api.texts(openid)
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= MAX_TEXT_BYTES for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


async def test_custom_json_is_sent_as_is(api: WeChatApi, settings: Settings) -> None:
    output = _output(api, settings)
    openid = _openid()
    article = {"title": "物流详情", "url": "https://shop.example/t/1", "picurl": ""}
    news = {"msgtype": "news", "news": {"articles": [article]}}
    await output.send_custom_json(f"wechat:{openid}", news)
    await output.send_custom_json(f"wechat:{openid}", {"no": "msgtype"})
    assert api.delivered(openid) == [{"touser": openid, **news}]
