"""End to end: a WeChat push to the real Rasa server, the bot's reply at the stand-in API.

Rasa is started the way production starts it (``python -m bot serve rasa``)
with the ``WECHAT_*`` settings set, so ``credentials.yml`` switches the
channel on and its send API points at the stand-in server of this test.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bot.training.model_cache import current_model_path
from tests.support.processes import PROJECT_ROOT, running_stack
from tests.support.wechat_api import WeChatApi, push, running_wechat_api, signed_query

pytestmark = pytest.mark.stack

TOKEN = "shopassistante2e"
APP_ID = "wx00e2e00000000000"
APP_SECRET = "e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0"


def _bot_texts() -> set[str]:
    """Every text the assistant can say, from ``domain.yml``."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {
        variant["text"]
        for variants in domain["responses"].values()
        for variant in variants
        if "text" in variant
    }


@pytest.fixture(scope="module")
def wechat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WeChatApi]]:
    """Demo shop, action server and Rasa with the WeChat channel; the stand-in API."""
    if not Path(current_model_path()).exists():
        pytest.skip("no trained model at models/current.tar.gz (make model)")
    var_dir = tmp_path_factory.mktemp("wechat-stack")
    with (
        running_wechat_api(app_id=APP_ID, app_secret=APP_SECRET) as api,
        running_stack(
            var_dir,
            WECHAT_TOKEN=TOKEN,
            WECHAT_APP_ID=APP_ID,
            WECHAT_APP_SECRET=APP_SECRET,
            WECHAT_API_BASE_URL=api.url,
        ) as stack,
    ):
        yield stack.rasa_url, api


def test_a_text_message_gets_a_real_bot_reply(wechat_stack: tuple[str, WeChatApi]) -> None:
    rasa_url, api = wechat_stack
    openid = "o" + uuid.uuid4().hex[:27]
    xml = push("text.xml", FromUserName=openid, Content="你好", MsgId=str(int(time.time() * 1000)))
    webhook = f"{rasa_url}/webhooks/wechat/webhook"

    started = time.monotonic()
    answer = httpx.post(webhook, params=signed_query(TOKEN), content=xml.encode(), timeout=10)
    elapsed = time.monotonic() - started
    assert (answer.status_code, answer.text) == (200, "success")
    assert elapsed < 1, f"acknowledged after {elapsed:.2f} s"
    # WeChat's retry of the same push is not answered again.
    retry = httpx.post(webhook, params=signed_query(TOKEN), content=xml.encode(), timeout=10)
    assert retry.text == "success"

    api.wait_for(lambda: bool(api.texts(openid)), timeout_s=60)
    time.sleep(2)  # let any further reply to the same message arrive
    replies = api.texts(openid)
    assert replies and set(replies) <= _bot_texts(), replies
    assert api.token_fetches == 1

    tracker = httpx.get(f"{rasa_url}/conversations/wechat:{openid}/tracker", timeout=10).json()
    said = [e for e in tracker["events"] if e["event"] == "user"]
    assert [(e["text"], e["input_channel"]) for e in said] == [("你好", "wechat")]
    uttered = [e["text"] for e in tracker["events"] if e["event"] == "bot"]
    assert uttered == replies
