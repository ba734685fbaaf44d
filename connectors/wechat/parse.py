"""Reading what WeChat pushes to the webhook: signatures, safe-mode envelopes, messages.

Everything here is a pure function of the request's parts, so it is tested on
the payloads WeChat documents (``tests/fixtures/wechat/``) without a server.
XML is never trusted: a document type or entity declaration is refused before
any parser sees the text, and the parser runs with entities disabled.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message as wechatpy_parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import SubscribeEvent, SubscribeScanEvent, UnsubscribeEvent
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import TextMessage
from wechatpy.utils import check_signature

from connectors.errors import BodyTooLarge
from connectors.wechat.errors import ForbiddenXml, ForgedRequest, MalformedMessage

CHANNEL = "wechat"
# WeChat's messages are a few hundred bytes; 64 KiB leaves a wide margin.
MAX_BODY_BYTES = 64 * 1024

_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_REQUIRED_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


class InboundKind(enum.Enum):
    """What the connector does with a message."""

    TEXT = "text"  # passed to Rasa as the customer's words
    SUBSCRIBE = "subscribe"  # a new follower: the bot greets
    UNSUPPORTED = "unsupported"  # images, voice, video, location, links…: a polite reply


@dataclass(frozen=True)
class Inbound:
    """A message or event from one customer that needs an answer.

    Attributes:
        kind: What to do with it.
        openid: The customer, as this Official Account knows them.
        dedupe_key: Identical for WeChat's retries of the same push.
        msg_type: WeChat's ``MsgType`` (``text``, ``image``, ``event`` …).
        text: The customer's text, for ``TEXT``.
        msg_id: WeChat's ``MsgId``; events have none.
        create_time: WeChat's ``CreateTime`` (seconds), the customer's order
            of messages with ``MsgId``.
    """

    kind: InboundKind
    openid: str
    dedupe_key: str
    msg_type: str
    text: str | None = None
    msg_id: str | None = None
    create_time: int = 0


def conversation_id(openid: str) -> str:
    """The conversation id of a WeChat customer: ``wechat:<openid>``."""
    return f"{CHANNEL}:{openid}"


def openid_of(recipient_id: str) -> str:
    """The openid in a conversation id (a bare openid is accepted too)."""
    return recipient_id.removeprefix(f"{CHANNEL}:")


def verify_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    """Checks the ``signature`` query parameter WeChat adds to every request.

    Raises:
        ForgedRequest: The parameters are missing or the signature is wrong.
    """
    if not (signature and timestamp and nonce):
        raise ForgedRequest("signature, timestamp or nonce missing")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException as error:
        raise ForgedRequest("signature does not match the token") from error


def decode_body(body: bytes) -> str:
    """The body as text, refused when it is over the limit or not UTF-8."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"body of {len(body)} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedMessage("body is not UTF-8") from error


def parse_xml(text: str) -> dict[str, Any]:
    """Parses a WeChat XML document safely into the fields under ``<xml>``.

    Raises:
        ForbiddenXml: The text declares a document type or an entity.
        MalformedMessage: It is not well-formed XML with an ``<xml>`` root.
    """
    if _DECLARATION.search(text):
        raise ForbiddenXml("document type and entity declarations are not accepted")
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise MalformedMessage(f"not well-formed XML: {error}") from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise MalformedMessage("the root element is not <xml> with fields")
    return root


def open_envelope(
    crypto: WeChatCrypto, text: str, *, msg_signature: str, timestamp: str, nonce: str
) -> str:
    """Checks ``msg_signature`` and decrypts a safe-mode message.

    Args:
        crypto: wechatpy's crypto for our token, EncodingAESKey and AppID.
        text: The request body: ``<xml><ToUserName/><Encrypt/></xml>``.
        msg_signature: The query parameter of the same name.
        timestamp: The query parameter of the same name.
        nonce: The query parameter of the same name.

    Returns:
        The decrypted message XML, itself still to be parsed.

    Raises:
        ForgedRequest: ``msg_signature`` is wrong, or the message is for another AppID.
        MalformedMessage: There is no ``Encrypt`` field or it does not decrypt.
    """
    fields = parse_xml(text)
    if not isinstance(fields.get("Encrypt"), str) or not fields["Encrypt"]:
        raise MalformedMessage("safe mode: the body has no Encrypt field")
    if not msg_signature:
        raise ForgedRequest("safe mode: msg_signature missing")
    try:
        decrypted = crypto.decrypt_message(fields, msg_signature, timestamp, nonce)
    except InvalidSignatureException as error:
        raise ForgedRequest("msg_signature does not match") from error
    except InvalidAppIdException as error:
        raise ForgedRequest("the message is for another AppID") from error
    except Exception as error:  # bad base64, padding, UTF-8: all just a bad body
        raise MalformedMessage(f"safe mode: cannot decrypt: {error}") from error
    return decrypted if isinstance(decrypted, str) else bytes(decrypted).decode("utf-8")


def parse_message(text: str) -> Inbound | None:
    """Turns a WeChat message XML into what the connector must do.

    Args:
        text: A plain (or decrypted) message as WeChat pushes it.

    Returns:
        The inbound message, or None for pushes that need no answer
        (unsubscribe, menu views, template-send reports …).

    Raises:
        ForbiddenXml: The XML declares a document type or an entity.
        MalformedMessage: It is not XML or lacks WeChat's common fields.
    """
    fields = parse_xml(text)
    missing = [name for name in _REQUIRED_FIELDS if not isinstance(fields.get(name), str)]
    if missing:
        raise MalformedMessage(f"fields missing: {', '.join(missing)}")
    try:
        message = wechatpy_parse_message(text)
    except (KeyError, ValueError, TypeError) as error:
        raise MalformedMessage(f"not a WeChat message: {error}") from error
    openid: str = fields["FromUserName"]
    account: str = fields["ToUserName"]
    msg_type = fields["MsgType"].lower()
    if msg_type == "event":
        return _event(message, fields, openid=openid, account=account)
    msg_id = fields.get("MsgId") if isinstance(fields.get("MsgId"), str) else None
    created = _create_time(fields["CreateTime"])
    key = f"wechat:{account}:msg:{msg_id or openid + ':' + fields['CreateTime'] + ':' + msg_type}"
    if isinstance(message, TextMessage) and (message.content or "").strip():
        return Inbound(
            InboundKind.TEXT,
            openid,
            key,
            msg_type,
            text=message.content,
            msg_id=msg_id,
            create_time=created,
        )
    return Inbound(
        InboundKind.UNSUPPORTED, openid, key, msg_type, msg_id=msg_id, create_time=created
    )


def _event(message: Any, fields: dict[str, Any], *, openid: str, account: str) -> Inbound | None:
    # Events carry no MsgId; a retry repeats sender, time and event.
    event = str(fields.get("Event") or "").lower()
    key = f"wechat:{account}:event:{openid}:{fields['CreateTime']}:{event}"
    if isinstance(message, UnsubscribeEvent):
        return None
    if isinstance(message, SubscribeEvent | SubscribeScanEvent):
        return Inbound(
            InboundKind.SUBSCRIBE,
            openid,
            key,
            "event",
            create_time=_create_time(fields["CreateTime"]),
        )
    return None


def _create_time(text: str) -> int:
    """``CreateTime`` as a number; 0 when it is not one (the order is then arrival)."""
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 19 else 0
