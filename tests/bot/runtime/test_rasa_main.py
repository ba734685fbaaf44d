"""Rasa's action-response check, compiled once: the same verdicts and messages as Rasa's."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.runtime import rasa_main

RASAS_OWN = RemoteAction._validate_action_result
ACTION = RemoteAction("action_run_task", None)

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "language", "value": "zh"},
            {"event": "followup", "name": "action_listen", "timestamp": None},
        ],
        "responses": [{"text": "您好", "buttons": [{"title": "查订单", "payload": "/order"}]}],
    },
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"event": "no_such_event"}]},
    {"responses": "not a list"},
]


@pytest.mark.parametrize("result", VALID)
def test_what_rasa_accepts_is_accepted(result: dict[str, Any]) -> None:
    assert RASAS_OWN(ACTION, result) is True
    assert rasa_main.validate_action_result(ACTION, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_what_rasa_refuses_is_refused_with_rasas_message(result: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as rasas:
        RASAS_OWN(ACTION, result)
    with pytest.raises(ValidationError) as ours:
        rasa_main.validate_action_result(ACTION, result)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_the_served_rasa_runs_with_the_check_installed() -> None:
    """``python -m bot.runtime.rasa_main`` is Rasa's command line with the fix in place."""
    program = (
        "import sys; from bot.runtime import rasa_main; rasa_main.install();"
        "from rasa.core.actions.action import RemoteAction;"
        "sys.exit(RemoteAction._validate_action_result is not rasa_main.validate_action_result)"
    )
    assert subprocess.run([sys.executable, "-c", program], check=False).returncode == 0
    version = subprocess.run(
        [sys.executable, "-m", "bot.runtime.rasa_main", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Rasa Version" in version.stdout and "3.6" in version.stdout
