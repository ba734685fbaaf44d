"""The short "one moment" a customer gets when their message waits in line.

When a conversation's message is still waiting ``INTAKE_WAIT_NOTICE_S``
after it was acknowledged (Rasa busy with the customer's earlier messages,
or waiting for Redis), the intake itself tells the customer it is on its
way, once per wait, in their language: the one their app or browser
reports, else the one their text is written in.
"""

from __future__ import annotations

from typing import Any

from bot.common.languages import (
    DEFAULT_LANGUAGE,
    EN,
    ZH_HANS,
    ZH_HANT,
    detect_language,
    language_hint,
)

NOTICES = {
    ZH_HANS: "收到，正在为您处理，请稍候",
    ZH_HANT: "收到，正在為您處理，請稍候",
    EN: "Got it, one moment please",
}


def wait_notice(text: str | None, metadata: dict[str, Any] | None) -> str:
    """The notice in the customer's language."""
    language = language_hint(metadata) or detect_language(text) or DEFAULT_LANGUAGE
    return NOTICES.get(language, NOTICES[DEFAULT_LANGUAGE])
