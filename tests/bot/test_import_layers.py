"""Imports on the Rasa side run one way: down the layers of ``bot``, never into connectors.

Read from the source (no module is imported), so a forbidden import fails
here even when it sits inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

# What each part may import of the project's own packages, by prefix.
_BOTTOM = ("bot.common", "bot.settings", "bot.errors")
_ALLOWED = {
    "bot.common": ("bot.common",),
    "bot.settings": ("bot.settings",),
    "bot.errors": ("bot.errors",),
    "bot.components": (*_BOTTOM, "bot.components"),
    "bot.training": (*_BOTTOM, "bot.components", "bot.training"),
    "bot.runtime": (*_BOTTOM, "bot.training", "bot.runtime"),
    "bot.cli": (*_BOTTOM, "bot.training", "bot.runtime", "bot.commands"),
    "bot.commands": (*_BOTTOM, "bot.training"),
    "bot.__main__": ("bot.cli",),
    "bot": (),
    "demo_shop": ("bot.settings", "bot.common", "demo_shop"),
    "actions": ("bot.settings", "bot.common", "bot.components.sensitive_topics", "actions"),
}
_OWN = ("bot", "demo_shop", "actions", "connectors", "handoff")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from bot import settings` imports bot.settings, not all of bot.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _sources() -> list[Path]:
    return sorted(
        path
        for package in ("bot", "demo_shop", "actions")
        for path in (PROJECT_ROOT / package).rglob("*.py")
    )


@pytest.mark.parametrize("path", _sources(), ids=lambda path: _module_name(path))
def test_imports_run_down_the_layers(path: Path) -> None:
    module = _module_name(path)
    # The most specific part the module belongs to (bot.training before bot).
    parts = sorted((part for part in _ALLOWED if _within(module, (part,))), key=len)
    assert parts, f"{module} belongs to no layer; add it to _ALLOWED"
    allowed = _ALLOWED[parts[-1]]
    wrong = [name for name in _imports(path) if _within(name, _OWN) and not _within(name, allowed)]
    assert not wrong, f"{module} imports {wrong}; it may import only {allowed}"
