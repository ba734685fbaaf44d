"""Parsing WeChat's pushes: the documented payloads, hostile XML, signatures, safe mode."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto

from connectors.errors import BodyTooLarge
from connectors.wechat.config import WeChatConfig
from connectors.wechat.errors import (
    ForbiddenXml,
    ForgedRequest,
    MalformedMessage,
    WeChatConfigError,
)
from connectors.wechat.parse import (
    MAX_BODY_BYTES,
    Inbound,
    InboundKind,
    decode_body,
    open_envelope,
    parse_message,
    verify_signature,
)
from tests.support.wechat_api import encrypted_push, push, signed_query

TOKEN = "shopassistant2024"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0123456789abcdef"


def test_text_message_is_passed_as_text() -> None:
    assert parse_message(push("text.xml")) == Inbound(
        InboundKind.TEXT,
        openid="fromUser",
        dedupe_key="wechat:toUser:msg:1234567890123456",
        msg_type="text",
        text="this is a test",
        msg_id="1234567890123456",
        create_time=1348831860,
    )


def test_text_is_not_interpreted() -> None:
    text = '<b>订单</b> & /cancel_order{"order_id": 1}'
    inbound = parse_message(push("text.xml", Content=text))
    assert inbound is not None and inbound.text == text


@pytest.mark.parametrize(
    "name", ["image.xml", "voice.xml", "video.xml", "location.xml", "link.xml"]
)
def test_other_messages_get_the_polite_reply(name: str) -> None:
    inbound = parse_message(push(name))
    assert inbound is not None
    assert inbound.kind is InboundKind.UNSUPPORTED
    assert inbound.openid == "fromUser"
    assert inbound.dedupe_key == "wechat:toUser:msg:1234567890123456"
    assert inbound.text is None


def test_unknown_message_type_gets_the_polite_reply() -> None:
    inbound = parse_message(push("text.xml", MsgType="hologram"))
    assert inbound is not None and inbound.kind is InboundKind.UNSUPPORTED


def test_empty_text_gets_the_polite_reply() -> None:
    inbound = parse_message(push("text.xml", Content="  "))
    assert inbound is not None and inbound.kind is InboundKind.UNSUPPORTED


@pytest.mark.parametrize("name", ["event_subscribe.xml", "event_subscribe_scan.xml"])
def test_subscribe_is_deduplicated_by_sender_time_and_event(name: str) -> None:
    inbound = parse_message(push(name))
    assert inbound is not None
    assert inbound.kind is InboundKind.SUBSCRIBE
    assert inbound.openid == "FromUser"
    assert inbound.msg_id is None
    assert inbound.dedupe_key.startswith("wechat:toUser:event:FromUser:123456789:subscribe")


@pytest.mark.parametrize("name", ["event_unsubscribe.xml", "event_click.xml"])
def test_events_that_need_no_answer(name: str) -> None:
    assert parse_message(push(name)) is None


@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "boom">]><xml><Content>&x;</Content></xml>',
        '<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml/>',
        "<!doctype xml><xml><MsgType>text</MsgType></xml>",
        "<xml><!ENTITY a 'b'></xml>",
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml>&lol2;</xml>',
    ],
)
def test_document_types_and_entities_are_refused(xml: str) -> None:
    with pytest.raises(ForbiddenXml):
        parse_message(xml)


@pytest.mark.parametrize(
    "xml",
    [
        "",
        "not xml at all",
        "<xml><ToUserName>toUser</ToUserName>",
        "<other><MsgType>text</MsgType></other>",
        "<xml>just text</xml>",
        "<xml><MsgType>text</MsgType><Content>hi</Content></xml>",
    ],
)
def test_malformed_xml_is_refused(xml: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(xml)


def test_bodies_over_64_kib_are_refused() -> None:
    assert decode_body(b"x" * MAX_BODY_BYTES) == "x" * MAX_BODY_BYTES
    with pytest.raises(BodyTooLarge):
        decode_body(b"x" * (MAX_BODY_BYTES + 1))
    with pytest.raises(MalformedMessage):
        decode_body("你好".encode("gbk"))


def test_signature() -> None:
    query = signed_query(TOKEN)
    verify_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
    with pytest.raises(ForgedRequest):
        verify_signature("anothertoken", query["signature"], query["timestamp"], query["nonce"])
    with pytest.raises(ForgedRequest):
        verify_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"] + "1")
    with pytest.raises(ForgedRequest):
        verify_signature(TOKEN, "", "", "")


def _open(body: str, query: dict[str, str], *, app_id: str = APP_ID) -> str:
    return open_envelope(
        WeChatCrypto(TOKEN, AES_KEY, app_id),
        body,
        msg_signature=query["msg_signature"],
        timestamp=query["timestamp"],
        nonce=query["nonce"],
    )


def test_safe_mode_message_is_decrypted() -> None:
    body, query = encrypted_push(push("text.xml"), token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    assert "this is a test" not in body
    inbound = parse_message(_open(body, query))
    assert inbound is not None and inbound.text == "this is a test"


def test_safe_mode_refuses_a_wrong_msg_signature_or_another_app() -> None:
    body, query = encrypted_push(push("text.xml"), token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    with pytest.raises(ForgedRequest):
        _open(body, query | {"msg_signature": "0" * 40})
    with pytest.raises(ForgedRequest):
        _open(body, query, app_id="wxffffffffffffffff")


def test_safe_mode_refuses_a_body_without_ciphertext() -> None:
    body, query = encrypted_push(push("text.xml"), token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    with pytest.raises(MalformedMessage):
        _open(push("text.xml"), query)
    with pytest.raises(ForbiddenXml):
        _open("<!DOCTYPE x>" + body, query)


def test_config_refuses_missing_or_invalid_settings() -> None:
    WeChatConfig(TOKEN, APP_ID, "secret", AES_KEY, "http://127.0.0.1:1")
    for bad in (
        {"token": ""},
        {"token": "to"},
        {"token": "has space"},
        {"app_id": ""},
        {"app_secret": ""},
        {"aes_key": "short"},
        {"api_base_url": "api.weixin.qq.com"},
    ):
        values = {
            "token": TOKEN,
            "app_id": APP_ID,
            "app_secret": "secret",
            "aes_key": None,
            "api_base_url": "https://api.weixin.qq.com",
        } | bad
        with pytest.raises(WeChatConfigError):
            WeChatConfig(**values)  # type: ignore[arg-type]
