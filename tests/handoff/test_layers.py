"""The handoff service's layers import downward only: nothing below the API imports it."""

from __future__ import annotations

import ast
from pathlib import Path

HANDOFF = Path(__file__).resolve().parents[2] / "handoff"
# The API layer itself, and the entry point that starts it.
ABOVE_SERVICES = {HANDOFF / "api", HANDOFF / "__main__.py"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_nothing_below_the_api_imports_it() -> None:
    offenders = {
        str(path.relative_to(HANDOFF)): sorted(
            name
            for name in _imports(path)
            if name == "handoff.api" or name.startswith("handoff.api.")
        )
        for path in HANDOFF.rglob("*.py")
        if not any(path == top or top in path.parents for top in ABOVE_SERVICES)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_python_module_is_over_350_lines() -> None:
    long = {
        str(path.relative_to(HANDOFF)): lines
        for path in HANDOFF.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 350
    }
    assert long == {}
