"""The WeChat connector's errors: one small tree under the connectors' own.

A refused webhook request is also a :class:`connectors.errors.RequestRefused`,
whose ``status`` is the HTTP answer; an oversized body is the shared
:class:`connectors.errors.BodyTooLarge`.
"""

from __future__ import annotations

from connectors.errors import ConnectorError, Forbidden, MalformedRequest


class WeChatError(ConnectorError):
    """Base of every error the WeChat connector raises."""


class WeChatConfigError(WeChatError, ValueError):
    """A WeChat setting is missing or unusable; the channel refuses to start."""


class ForgedRequest(WeChatError, Forbidden):
    """The signature (or ``msg_signature`` in safe mode) does not match (403)."""


class MalformedMessage(WeChatError, MalformedRequest):
    """The body is not a WeChat XML message (400)."""


class ForbiddenXml(MalformedMessage):
    """The XML declares a document type or an entity (XXE, billion laughs)."""
