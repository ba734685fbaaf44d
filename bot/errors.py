"""The exception tree of the ``bot`` package's retraining commands."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error ``bot retrain``, ``bot models`` and ``bot rollback`` raise."""


class LabelsError(BotError):
    """The labels cannot be read (a missing or malformed file, an unreachable service)."""


class DataInvalid(BotError):
    """The training data with the labels does not pass Rasa's validation."""


class RegistryError(BotError):
    """The model registry cannot do what was asked (e.g. nothing to roll back to)."""


class RasaServerError(BotError):
    """The running Rasa server refused or failed a request."""


class GateRefused(BotError):
    """The candidate model is worse than the serving one beyond the tolerance."""
