"""The web chat page's server fills in its paths and the privacy notice's link, escaped."""

from __future__ import annotations

import pytest

from connectors.webchat.page import WebChatPage, render_page


def test_the_notice_url_is_filled_in_escaped() -> None:
    page = render_page(
        base_path="/webhooks/webchat/",
        socketio_path="/socket.io",
        privacy_notice_url='https://shop.example/privacy?a=1&b="x"<b>',
    )
    assert "__PRIVACY_NOTICE_URL__" not in page
    assert (
        'data-privacy-url="https://shop.example/privacy?a=1&amp;b=&quot;x&quot;&lt;b&gt;"' in page
    )
    assert "<b>" not in page


def test_without_a_url_the_attribute_is_empty() -> None:
    page = render_page(base_path="/webhooks/webchat/", socketio_path="/socket.io")
    assert 'data-privacy-url=""' in page


async def test_the_page_takes_the_url_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_IGNORE_DOTENV", "1")
    monkeypatch.setenv("PRIVACY_NOTICE_URL", "https://shop.example/privacy")
    served = await WebChatPage(base_path="/chat/", socketio_path="/socket.io").chat_page(None)  # type: ignore[arg-type]
    assert 'data-privacy-url="https://shop.example/privacy"' in served.body.decode()
