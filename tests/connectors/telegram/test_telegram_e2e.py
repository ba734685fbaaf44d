"""End to end: a Telegram update through the real Rasa server to a real bot reply.

Starts the demo shop, the action server and Rasa (``python -m bot serve``,
as in tests/conftest.py) with the Telegram settings pointing at the stand-in
Bot API, so the channel is enabled by ``credentials.yml`` exactly as in
production. Uses the trained model at models/current.tar.gz; never trains.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.training.model_cache import current_model_path
from connectors.telegram.channel import SECRET_HEADER
from tests.support.processes import running_stack
from tests.support.telegram_api import TelegramApi, running_telegram_api

pytestmark = pytest.mark.stack

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret-token_for-telegram-tests"
WEBHOOK_URL = "https://shop.example/webhooks/telegram/webhook"


@dataclass(frozen=True)
class TelegramStack:
    api: TelegramApi
    rasa_url: str


@pytest.fixture(scope="module")
def telegram_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramStack]:
    """Shop, actions and Rasa with the Telegram channel enabled by its settings."""
    if not current_model_path().exists():
        pytest.skip("no trained model at models/current.tar.gz (run `make model`)")
    var_dir = tmp_path_factory.mktemp("telegram-stack")
    with (
        running_telegram_api(TOKEN) as api,
        running_stack(
            var_dir,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_SECRET_TOKEN=SECRET,
            TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
            TELEGRAM_API_BASE_URL=api.base_url,
        ) as stack,
    ):
        yield TelegramStack(api=api, rasa_url=stack.rasa_url)


def test_start_in_english_gets_rasas_english_welcome(telegram_stack: TelegramStack) -> None:
    api = telegram_stack.api
    # The channel started with the server: one getMe, the webhook with its secret.
    assert [call.method for call in api.calls()][:2] == ["getMe", "setWebhook"]
    [registered] = api.calls("setWebhook")
    assert (registered.params["url"], registered.params["secret_token"]) == (WEBHOOK_URL, SECRET)

    update: dict[str, Any] = json.loads((FIXTURES / "message_start.json").read_text())
    update["message"]["from"]["language_code"] = "en-US"
    chat_id = update["message"]["chat"]["id"]
    webhook = f"{telegram_stack.rasa_url}/webhooks/telegram/webhook"
    forged = httpx.post(webhook, json=update, headers={SECRET_HEADER: "forged-secret-token-xx"})
    assert forged.status_code == 403
    answer = httpx.post(webhook, json=update, headers={SECRET_HEADER: SECRET}, timeout=5)
    assert answer.status_code == 200

    api.wait_for(
        lambda api: len(api.sent_texts(chat_id)) >= 2, timeout_s=120, what="notice and welcome"
    )
    # A new customer: the privacy notice first (tests/connectors/test_privacy_notice_live.py).
    [notice, welcome] = api.sent_texts(chat_id)
    assert notice.startswith("Privacy:")
    # utter_greet's English variant: the language slot was seeded from language_code.
    assert welcome.startswith("Hi! I'm the shop's assistant.")
    assert len(api.calls("getMe")) == 1

    tracker = httpx.get(
        f"{telegram_stack.rasa_url}/conversations/telegram:{chat_id}/tracker", timeout=10
    ).json()
    assert tracker["slots"]["language"] == "en"
    assert tracker["latest_input_channel"] == "telegram"
    user_events = [event for event in tracker["events"] if event["event"] == "user"]
    assert [event["text"] for event in user_events] == ["/greet"]
    assert user_events[0]["metadata"]["language_code"] == "en-US"
