"""The web chat's thumbs-down route, served by a real Sanic server.

The conversation is in a real (in-memory) Rasa tracker store; the handoff
service is the recording stand-in (``tests/support/handoff_api.py``), so the
exact request the Rasa side sends can be checked. The browser test
(``tests/browser/test_webchat_page.py``) clicks the control against the real
service.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.webchat.channel import WebChatInput
from connectors.webchat.feedback import (
    MAX_FEEDBACK_BYTES,
    FeedbackRefused,
    answer_timestamp,
    parse_feedback,
)
from tests.connectors.webchat.test_webchat_channel import _sanic_test_mode, serve  # noqa: F401
from tests.support.handoff_api import Answer, HandoffApi, running_handoff_api
from tests.support.intake_stores import sqlite_intake

SESSION = "5b0e7c9d1a2f4e6b8c0d2e4f6a8b0c1d"
ANSWER = "Your parcel SF1234567890 is on its way.\n\nAnything else?"


@pytest.fixture
def handoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[HandoffApi]:
    with running_handoff_api() as api:
        monkeypatch.setenv("HANDOFF_URL", api.url)
        monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", api.token)
        monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
        yield api


async def _agent() -> tuple[Agent, float]:
    store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker(f"webchat:{SESSION}", [])
    tracker.update(UserUttered("where is order 20241105001", timestamp=100.0))
    answer = BotUttered(ANSWER, timestamp=101.5)
    tracker.update(answer)
    await store.save(tracker)
    return Agent(tracker_store=store), 101.5


def test_the_answer_is_found_whole_or_by_the_part_the_page_showed() -> None:
    events = [
        {"event": "user", "text": "hi", "timestamp": 1.0},
        {"event": "bot", "text": ANSWER, "timestamp": 2.0},
        {"event": "bot", "text": "Anything else?", "timestamp": 3.0},
    ]
    assert answer_timestamp(events, "Your parcel SF1234567890 is on its way.") == 2.0
    assert answer_timestamp(events, ANSWER) == 2.0
    assert answer_timestamp(events, "Anything else?") == 3.0  # the latest
    assert answer_timestamp(events, "hi") is None  # the customer's, not an answer
    assert answer_timestamp(events, "on its way") is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"session_id": "../x", "text": "a", "rating": "down"}', "session_id"),
        (b'{"session_id": "' + SESSION.encode() + b'", "rating": "down"}', "text"),
        (b'{"session_id": "' + SESSION.encode() + b'", "text": "a", "rating": "up"}', "rating"),
    ],
)
def test_malformed_feedback_is_refused(body: bytes, error: str) -> None:
    with pytest.raises(FeedbackRefused, match=error) as refused:
        parse_feedback(body)
    assert refused.value.status == 400


async def test_a_thumbs_down_reaches_the_service_with_the_answers_timestamp(
    tmp_path: Path, handoff: HandoffApi
) -> None:
    agent, answered_at = await _agent()
    channel = WebChatInput(intake=sqlite_intake(tmp_path / "seen.db", "webchat"))
    async with serve(channel, agent=agent) as served, httpx.AsyncClient() as http:
        url = f"{served.url}/webhooks/webchat/feedback"
        sent = await http.post(
            url,
            json={"session_id": SESSION, "text": "Anything else?", "rating": "down"},
        )
        unknown = await http.post(
            url, json={"session_id": SESSION, "text": "never said", "rating": "down"}
        )
        too_large = await http.post(url, content=b"x" * (MAX_FEEDBACK_BYTES + 1))
        malformed = await http.post(url, content=b"{")
        handoff.answer_next(Answer(500))
        refused = await http.post(
            url, json={"session_id": SESSION, "text": "Anything else?", "rating": "down"}
        )

    assert sent.status_code == 202, sent.text
    assert sent.json() == {"queued": True}
    assert handoff.received("/api/internal/feedback") == [
        {"conversation_id": f"webchat:{SESSION}", "message_ts": answered_at, "rating": "down"}
    ]
    assert [unknown.status_code, too_large.status_code, malformed.status_code] == [404, 413, 400]
    assert refused.status_code == 502
    assert len(handoff.received("/api/internal/feedback")) == 1  # nothing else got through
