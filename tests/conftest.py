"""Session fixtures: the real stack (demo shop, action server, Rasa) started once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.training.model_cache import ensure_model
from tests.support.processes import Stack, running_stack
from tests.support.summary import SUMMARY

# The handoff service's tests run in its own environment (.venv-handoff, see
# tests/handoff/pytest.ini): `make test` runs them separately.
collect_ignore = ["handoff"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Demo shop (fresh database), action server, Rasa and the handoff service.

    All on free ports; the real handoff service (its own SQLite database, a
    fresh service token shared with Rasa and the action server) receives the
    hand-offs and the event broker's batches. Tests that must see the raw
    requests of the Rasa side use the recording stand-in
    (``tests/support/handoff_api.py``) instead.
    """
    ensure_model()
    with running_stack(tmp_path_factory.mktemp("stack"), handoff=True) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("assistant summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
