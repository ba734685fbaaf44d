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

from bot.models import current_model_path
from tests.support.processes import PROJECT_ROOT, Process, base_env, free_port, wait_until
from tests.support.wechat_api import WeChatApi, push, running_wechat_api, signed_query

pytestmark = pytest.mark.stack

TOKEN = "shopassistante2e"
APP_ID = "wx00e2e00000000000"
APP_SECRET = "e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0"
RASA_START_TIMEOUT_S = 240


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
    ports = {"DEMO_SHOP_PORT": free_port(), "ACTIONS_PORT": free_port(), "RASA_PORT": free_port()}
    with running_wechat_api(app_id=APP_ID, app_secret=APP_SECRET) as api:
        env = base_env(
            var_dir,
            SHOP_API_URL=f"http://127.0.0.1:{ports['DEMO_SHOP_PORT']}",
            WECHAT_TOKEN=TOKEN,
            WECHAT_APP_ID=APP_ID,
            WECHAT_APP_SECRET=APP_SECRET,
            WECHAT_API_BASE_URL=api.url,
            **{name: str(port) for name, port in ports.items()},
        )
        env.pop("WECHAT_AES_KEY", None)
        processes = [
            Process(name, env, var_dir / f"{name}.log") for name in ("shop", "actions", "rasa")
        ]
        urls = [
            f"http://127.0.0.1:{ports['DEMO_SHOP_PORT']}/health",
            f"http://127.0.0.1:{ports['ACTIONS_PORT']}/health",
            f"http://127.0.0.1:{ports['RASA_PORT']}/status",
        ]
        try:
            for process in processes:
                process.start()
            for process, url in zip(processes, urls, strict=True):

                def ready(process: Process = process, url: str = url) -> bool:
                    process.assert_running()
                    return httpx.get(url, timeout=2).status_code == 200

                wait_until(ready, timeout_s=RASA_START_TIMEOUT_S, what=process.name)
            yield f"http://127.0.0.1:{ports['RASA_PORT']}", api
        finally:
            for process in reversed(processes):
                process.stop()


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
