"""action_detect_language: the customer's language and the anger score of each message."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage
from tests.support.trackers import load_domain, make_tracker, slot_events

DOMAIN = load_domain()


async def detect(text: str, language: str | None = "zh-Hans") -> dict[str, object]:
    tracker = make_tracker(text=text, slots={"language": language})
    return slot_events(await ActionDetectLanguage().run(CollectingDispatcher(), tracker, DOMAIN))


async def test_an_angry_message_gets_a_high_score() -> None:
    slots = await detect("气死我了，你们到底发不发货！")
    assert isinstance(slots["anger_score"], float) and slots["anger_score"] >= 0.5
    assert "language" not in slots  # still Simplified Chinese


async def test_a_calm_message_gets_a_low_score_and_its_language() -> None:
    slots = await detect("Could you check my order please?")
    assert isinstance(slots["anger_score"], float) and slots["anger_score"] < 0.5
    assert slots["language"] == "en"


async def test_a_button_clears_the_score() -> None:
    assert await detect("/affirm") == {"anger_score": None}
