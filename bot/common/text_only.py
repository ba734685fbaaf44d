"""The polite reply to anything but text (stickers, photos, voice, files).

Every connector sends the same words, in the customer's language when the
platform tells it, else in Chinese and English together.
"""

from __future__ import annotations

from bot.common.languages import EN, ZH_HANS, ZH_HANT

_REPLIES = {
    ZH_HANS: "抱歉，我目前只能看懂文字消息，请用文字描述您的问题。",
    ZH_HANT: "抱歉，我目前只能看懂文字訊息，請用文字描述您的問題。",
    EN: "Sorry, I can only read text messages for now. Please describe your question in words.",
}
BILINGUAL_REPLY = "抱歉，我目前只能看懂文字消息 / Sorry, I can only read text messages for now."


def text_only_reply(language: str | None) -> str:
    """The "text only, please" reply in ``language`` (one of ours), or in both when unknown."""
    return _REPLIES.get(language or "", BILINGUAL_REPLY)
