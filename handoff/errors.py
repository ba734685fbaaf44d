"""The handoff service's exception tree."""

from __future__ import annotations


class HandoffError(Exception):
    """Base class of every error this package raises on purpose."""


class SettingsError(HandoffError, ValueError):
    """A setting is missing, malformed or unsafe for the chosen environment."""


class NotFound(HandoffError):
    """The conversation, message or agent does not exist."""


class Conflict(HandoffError):
    """The request does not fit the current state (or a name is taken)."""


class Forbidden(HandoffError):
    """The agent's role does not allow this."""


class DeliveryError(HandoffError):
    """Rasa or a connector refused or did not answer an outbound call.

    Attributes:
        message_id: the stored message that was not delivered, when there is one.
        retryable: nothing was sent and trying again may succeed (the connector
            unreachable, or the platform failing for now); ``False`` when the
            refusal is final or the outcome is unknown (a send may have left).
    """

    message_id: int | None = None
    retryable: bool = False


class InvalidInput(HandoffError):
    """The request is well-formed JSON but its values are unusable."""
