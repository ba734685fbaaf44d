"""Whole conversations through the REST channel of a live stack."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from actions.language import detect_language
from tests.support.stories import compare, load_stories, play

STORIES = load_stories(Path(__file__).with_name("test_stories.yml"))

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    return httpx.Client(timeout=60)


@pytest.mark.parametrize("story", STORIES, ids=[story.name for story in STORIES])
def test_story(stack, client: httpx.Client, story) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    events = play(client, stack.rasa_url, sender, story)
    problems = compare(story, events)
    assert not problems, "\n".join(problems)


def say(client: httpx.Client, stack, sender: str, text: str) -> list[dict]:
    response = client.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("订单20241105001到哪了", "运单号"),
        ("訂單20241105001到哪裡了", "運單號"),
        ("where is order 20241105001", "tracking number"),
    ],
)
def test_replies_come_in_the_customers_language(stack, client, text: str, phrase: str) -> None:
    replies = say(client, stack, f"webchat:{uuid.uuid4().hex[:12]}", text)
    body = " ".join(reply.get("text", "") for reply in replies)
    assert "SF1234567890" in body  # real data from the shop
    assert phrase in body


def test_greeting_in_traditional_is_answered_in_traditional(stack, client) -> None:
    replies = say(client, stack, f"webchat:{uuid.uuid4().hex[:12]}", "你們好，請問在嗎")
    body = " ".join(reply.get("text", "") for reply in replies)
    assert detect_language(body, "zh-Hans") == "zh-Hant"


def test_the_bot_is_silent_while_paused_and_answers_after_resume(stack, client) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    assert say(client, stack, sender, "转人工")  # "a colleague is coming"
    assert say(client, stack, sender, "你好") == []  # a human holds the conversation
    tracker = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker").json()
    assert tracker["paused"] is True
    assert tracker["slots"]["handoff_reason"] == "explicit_request"

    resumed = client.post(
        f"{stack.rasa_url}/conversations/{sender}/tracker/events", json={"event": "resume"}
    )
    resumed.raise_for_status()
    assert say(client, stack, sender, "你好")  # the bot answers again


def test_buttons_reach_the_channel(stack, client) -> None:
    sender = f"webchat:{uuid.uuid4().hex[:12]}"
    replies = say(client, stack, sender, "cancel order 20241113018")
    buttons = [b for reply in replies for b in reply.get("buttons", [])]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]
    assert say(client, stack, sender, "/deny")
