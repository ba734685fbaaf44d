"""The root of every connector's errors, and the refusals that carry an HTTP status.

Each platform package keeps a small tree of its own under
:class:`ConnectorError` (``connectors.telegram.errors``,
``connectors.wechat.errors``); a refused request, whichever route refused it,
is a :class:`RequestRefused` whose ``status`` is the HTTP answer.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error a connector raises."""


class RequestRefused(ConnectorError):
    """An incoming request that is refused; ``status`` is the HTTP answer.

    Args:
        message: Why, for the log and (on some routes) the answer's body.
        status: Overrides the class's status for this one refusal.
    """

    status = 400

    def __init__(self, message: str = "", status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class Forbidden(RequestRefused):
    """The request's credentials (token, secret, signature) are missing or wrong."""

    status = 403


class MalformedRequest(RequestRefused):
    """The body is not what the route reads."""

    status = 400


class BodyTooLarge(RequestRefused):
    """The body is (or declares to be) over the route's size limit."""

    status = 413
