"""The privacy notice on a live stack (issue 16, point 7): a new customer's first reply.

Shop, actions and Rasa with ``PRIVACY_NOTICE_URL`` set and the Telegram channel
enabled against the stand-in Bot API. On Telegram and the REST channel the
first message of a new customer is answered by the notice (with the link, in
the customer's language) and then the answer; the second message is not; the
web chat (its page shows the notice) never gets it from the bot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.training.model_cache import current_model_path
from connectors.telegram.channel import SECRET_HEADER
from tests.support.processes import running_stack
from tests.support.telegram_api import TelegramApi, running_telegram_api

pytestmark = pytest.mark.stack

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret-token_for-notice-tests"
NOTICE_URL = "https://shop.example/privacy"
MARKERS = ("Privacy notice: ", "隐私政策：", "隱私權政策：")


@dataclass(frozen=True)
class NoticeStack:
    api: TelegramApi
    rasa_url: str


@pytest.fixture(scope="module")
def notice_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NoticeStack]:
    if not current_model_path().exists():
        pytest.skip("no trained model at models/current.tar.gz (run `make model`)")
    with (
        running_telegram_api(TOKEN) as api,
        running_stack(
            tmp_path_factory.mktemp("notice-stack"),
            PRIVACY_NOTICE_URL=NOTICE_URL,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_SECRET_TOKEN=SECRET,
            TELEGRAM_WEBHOOK_URL="https://shop.example/webhooks/telegram/webhook",
            TELEGRAM_API_BASE_URL=api.base_url,
        ) as stack,
    ):
        yield NoticeStack(api=api, rasa_url=stack.rasa_url)


def notices(texts: list[str]) -> list[str]:
    return [text for text in texts if any(marker in text for marker in MARKERS)]


def rest(stack: NoticeStack, sender: str, text: str, **metadata: str) -> list[str]:
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    answer = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    answer.raise_for_status()
    return [reply["text"] for reply in answer.json() if reply.get("text")]


@pytest.mark.parametrize(
    ("text", "metadata", "link"),
    [
        ("where is my order 20241105001", {"language_code": "en-US"}, "Privacy notice: "),
        ("订单20241105001到哪了", {}, "隐私政策："),
    ],
)
def test_rest_a_new_customer_gets_the_notice_first_and_once(
    notice_stack: NoticeStack, text: str, metadata: dict[str, str], link: str
) -> None:
    sender = f"rest-{uuid.uuid4().hex[:12]}"
    first = rest(notice_stack, sender, text, **metadata)
    assert len(first) >= 2, first  # the notice, then the answer
    assert first[0].endswith(link + NOTICE_URL)
    assert notices(first) == [first[0]]
    assert "20241105001" in " ".join(first[1:])  # the question is still answered

    second = rest(notice_stack, sender, "谢谢" if link == "隐私政策：" else "thank you")
    assert second and notices(second) == []
    tracker = httpx.get(f"{notice_stack.rasa_url}/conversations/{sender}/tracker", timeout=10)
    assert tracker.json()["slots"]["privacy_notice_shown"] is True


def test_the_web_chat_gets_no_notice_from_the_bot(notice_stack: NoticeStack) -> None:
    first = rest(notice_stack, f"webchat:{uuid.uuid4().hex[:12]}", "订单20241105001到哪了")
    assert first and notices(first) == []


def _update(update_id: int, chat_id: int, text: str, language_code: str) -> dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language_code}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": person,
            "chat": {"id": chat_id, "first_name": "Test", "type": "private"},
            "date": 1441645532,
            "text": text,
        },
    }


def test_telegram_a_new_customer_gets_the_notice_first_and_once(
    notice_stack: NoticeStack,
) -> None:
    api, chat_id = notice_stack.api, 700000 + uuid.uuid4().int % 100000
    webhook = f"{notice_stack.rasa_url}/webhooks/telegram/webhook"

    def send(update_id: int, text: str) -> None:
        update = _update(update_id, chat_id, text, "zh-TW")
        answer = httpx.post(webhook, json=update, headers={SECRET_HEADER: SECRET}, timeout=10)
        assert answer.status_code == 200

    send(chat_id * 10 + 1, "訂單20241105001到哪裡了")
    api.wait_for(lambda api: len(api.sent_texts(chat_id)) >= 2, timeout_s=120, what="2 replies")
    first = api.sent_texts(chat_id)
    # Traditional Chinese from Telegram's language code, with the link.
    assert first[0].endswith("隱私權政策：" + NOTICE_URL)
    assert "客服人員看到的個人資料已遮蔽" in first[0]
    assert "20241105001" in " ".join(first[1:])

    send(chat_id * 10 + 2, "謝謝")
    api.wait_for(
        lambda api: len(api.sent_texts(chat_id)) > len(first), timeout_s=60, what="the reply"
    )
    assert notices(api.sent_texts(chat_id)) == [first[0]]  # once, never again
