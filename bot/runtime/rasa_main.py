"""Rasa's command line, with the action-response check compiled once and degraded answers.

``bot serve rasa`` starts Rasa as ``python -m bot.runtime.rasa_main run …`` instead
of the ``rasa`` script, so that one fix is in place first.

The fix: Rasa 3.6 checks every answer of the action server against its
response schema with ``jsonschema.validate``, which re-checks the schema
itself and builds a new validator on every call. With Rasa's large event
schema that took about 16 ms of the event loop per custom action, half the
CPU of a whole turn here (seen with py-spy; ``bench/action_validation.py``
times both). Here the validator is built once per action class and the
check is otherwise the same: the same schema, the same error chosen by
``jsonschema.exceptions.best_match``, the same hint appended to its message.

And :mod:`bot.runtime.event_broker`'s one commit per tracker save for the
outbox. And :mod:`bot.runtime.degraded`: a custom action that fails (the action server
down) answers with an apology, or hands the conversation to a person, instead
of leaving the customer in silence. And :mod:`bot.runtime.lock_retry`: a
message waiting behind the conversation lock of a replica that died is
handled once the lock expires, instead of being dropped.
"""

from __future__ import annotations

from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot import settings as bot_settings
from bot.runtime import degraded, event_broker, lock_retry

_HINT = (
    ". Failed to validate Action server response from API, make sure your response"
    f" from the Action endpoint is valid. For more information about the format visit"
    f" {DOCS_BASE_URL}/custom-actions"
)


_validators: dict[type[RemoteAction], Any] = {}


def _validator(action_class: type[RemoteAction]) -> Any:
    """The compiled check for one action class's response schema."""
    if action_class not in _validators:
        schema = action_class.action_response_format_spec()
        validator_class = validators.validator_for(schema)
        validator_class.check_schema(schema)
        _validators[action_class] = validator_class(schema)
    return _validators[action_class]


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result``, with a validator built once.

    Raises:
        ValidationError: The action server's answer does not fit the schema.
    """
    error: ValidationError | None = best_match(_validator(type(action)).iter_errors(result))
    if error is None:
        return True
    error.message += _HINT
    raise error


def install() -> None:
    """Puts :func:`validate_action_result` in Rasa's place, and degraded answers in."""
    RemoteAction._validate_action_result = validate_action_result
    degraded.install(timeout_s=bot_settings.load().action_timeout_s)
    event_broker.install()
    lock_retry.install()


def main() -> None:
    """Runs Rasa's command line (``sys.argv``) with the fix installed."""
    install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
