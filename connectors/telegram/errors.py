"""What can go wrong in the Telegram connector, as one small tree.

``TelegramConnectorError`` is the root (itself a
:class:`connectors.errors.ConnectorError`); python-telegram-bot's own errors
(``telegram.error.TelegramError``) are wrapped, never leaked, so callers
catch ours.
"""

from __future__ import annotations

from connectors.errors import ConnectorError, MalformedRequest


class TelegramConnectorError(ConnectorError):
    """Something in the Telegram connector failed."""


class TelegramConfigError(TelegramConnectorError, ValueError):
    """The ``credentials.yml`` section is missing or unusable; Rasa must not start."""


class MalformedUpdate(TelegramConnectorError, MalformedRequest, ValueError):
    """A webhook body that is not a Telegram update (answered with 400)."""


class TelegramSendError(TelegramConnectorError):
    """The Bot API refused a call, or kept answering 429 past our patience."""


class UnknownRecipient(TelegramSendError, ValueError):
    """A recipient id that is not ``telegram:<chat_id>`` (or a bare chat id)."""
