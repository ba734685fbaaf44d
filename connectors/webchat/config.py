"""The web chat's settings, checked before anything starts, and its error tree."""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.errors import ConnectorError


class WebChatError(ConnectorError):
    """Base of every error the web chat connector raises."""


class WebChatConfigError(WebChatError, ValueError):
    """A web chat setting is unusable; the channel refuses to start."""


def checked_redis_url(value: object) -> str | None:
    """The Redis URL of the socket.io client manager, or None for none.

    Raises:
        WebChatConfigError: It is not a ``redis://``, ``rediss://`` or ``unix://`` URL.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise WebChatConfigError(f"redis_url must be a redis:// URL, got {value!r}")
    return value


def checked_socketio_path(value: object) -> str:
    """The socket.io endpoint's path, without a trailing ``/``.

    Raises:
        WebChatConfigError: It is not a plain absolute path.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) < 2:
        raise WebChatConfigError(f"socketio_path must be a path like /socket.io, got {value!r}")
    if any(c in value for c in "?#\"'<> "):
        raise WebChatConfigError(f"socketio_path must be a plain path, got {value!r}")
    return value.rstrip("/")
