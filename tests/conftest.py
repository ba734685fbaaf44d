"""Session fixtures: the real stack (demo shop, action server, Rasa) started once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.models import ensure_model
from tests.support.processes import Stack, running_stack
from tests.support.summary import SUMMARY


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Demo shop (fresh database), action server and Rasa server on free ports."""
    ensure_model()
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("assistant summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
