"""The WeChat connector's errors: one small tree, mapped onto HTTP statuses."""

from __future__ import annotations


class WeChatError(Exception):
    """Base of every error the WeChat connector raises."""


class WeChatConfigError(WeChatError, ValueError):
    """A WeChat setting is missing or unusable; the channel refuses to start."""


class WeChatRequestError(WeChatError):
    """An incoming webhook request is refused; ``status`` is the HTTP answer."""

    status = 400


class ForgedRequest(WeChatRequestError):
    """The signature (or ``msg_signature`` in safe mode) does not match."""

    status = 403


class MalformedMessage(WeChatRequestError):
    """The body is not a WeChat XML message."""

    status = 400


class ForbiddenXml(MalformedMessage):
    """The XML declares a document type or an entity (XXE, billion laughs)."""


class BodyTooLarge(WeChatRequestError):
    """The body is over the size limit."""

    status = 413
